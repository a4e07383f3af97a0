/**
 * Turns: the CPU work of incoming submissions, one submission per turn of the event loop.
 *
 * Why: under load one poll phase of the event loop hands over many requests at once, and reading
 * each one (signature check, decoding, validation, digests: ≈90 µs for a single record, a few
 * milliseconds for a batch read on the main thread) used to run back to back before the loop
 * looked at anything else. The group commit (src/store/group-commit.ts) advances only when the
 * database's answers are read — lock and read, write, COMMIT — so each of its round trips waited
 * behind every request that had arrived meanwhile: with 50 single-record clients a statement that
 * PostgreSQL ran in 0.5 ms took 2.2 ms to come back, and the whole commit cycle, which every waiting
 * request pays, was half waiting. With turns, a database answer waits for at most one request's
 * work (docs/performance.md has the figures).
 *
 * How: `take()` resolves in FIFO order, one resolution per setImmediate callback. The resolved
 * request runs its synchronous work in the microtasks right after that callback; the next turn is
 * an immediate queued from inside the check phase, which Node runs only on the next iteration of
 * the loop — after a poll phase, where socket reads (the database's answers among them) are handled.
 * A request whose work is asynchronous (a payload read on an intake worker) gives the turn back at
 * its first await. Under no load a turn costs one iteration of the loop: microseconds.
 */
export interface Turns {
  /** Resolves when it is the caller's turn; the caller's synchronous work then runs alone. */
  take(): Promise<void>;
}

export function createTurns(): Turns {
  const queue: (() => void)[] = [];
  let running = false;

  function next(): void {
    const give = queue.shift();
    if (give === undefined) {
      running = false;
      return;
    }
    give();
    setImmediate(next);
  }

  return {
    take() {
      return new Promise<void>((resolve) => {
        queue.push(resolve);
        if (!running) {
          running = true;
          setImmediate(next);
        }
      });
    },
  };
}
