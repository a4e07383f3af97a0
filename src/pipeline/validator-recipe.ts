/**
 * What the validator is built from, as plain data: the gateway builds its validator from it, and
 * so does each intake worker (intake-pool.ts), which cannot be handed the compiled one.
 */
import type { Config } from '../config/schema.js';
import { loadCatalogue } from '../schemas/spec/catalogue.js';
import { loadDivisions, shippedDivisions } from '../schemas/spec/divisions.js';
import { createValidator, type Validator } from '../schemas/validate.js';

export interface ValidatorRecipe {
  readonly maxRecords: number;
  /** Absent: the division table shipped with the spec. */
  readonly divisionsFile?: string;
  /** Absent: no item catalogue check. */
  readonly catalogueFile?: string;
}

/** The validator the configuration asks for: batch limit, division table, item catalogue. */
export function validatorRecipe(config: Config): ValidatorRecipe {
  return {
    maxRecords: config.limits.maxRecordsPerBatch,
    ...(config.spec.divisionsFile === undefined ? {} : { divisionsFile: config.spec.divisionsFile }),
    ...(config.spec.catalogueFile === undefined ? {} : { catalogueFile: config.spec.catalogueFile }),
  };
}

/** The validator the configuration asks for, built here (the gateway, `govgate pull`). */
export function validatorFor(config: Config): Validator {
  return buildValidator(validatorRecipe(config));
}

export function buildValidator(recipe: ValidatorRecipe): Validator {
  return createValidator({
    maxRecords: recipe.maxRecords,
    divisions: recipe.divisionsFile === undefined ? shippedDivisions() : loadDivisions(recipe.divisionsFile),
    ...(recipe.catalogueFile === undefined ? {} : { catalogue: loadCatalogue(recipe.catalogueFile) }),
  });
}
