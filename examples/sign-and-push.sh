#!/usr/bin/env bash
# 对请求签名并用 curl 推送到 govgate（签名规则见 docs/signing.md）。
# Sign a request and send it to govgate with curl (signing rules: docs/signing.md).
#
# 用法 Usage:
#   GOVGATE_KEY_ID=<密钥编号 key id> GOVGATE_SECRET=<密钥 secret> \
#     examples/sign-and-push.sh [-a sha256|sm3] [-X METHOD] [-H CONTENT_TYPE] [-p] URL [FILE]
#
#   -a  算法 algorithm：sha256（GOVGATE-HMAC-SHA256，默认 default）或 or sm3（GOVGATE-HMAC-SM3，国密）
#   -X  HTTP 方法 method；有 FILE 时默认 POST，否则 GET / default POST with a FILE, else GET
#   -H  Content-Type；默认按扩展名：*.xml → application/xml，其他 → application/json
#       default by extension: *.xml → application/xml, else application/json
#   -p  只打印签名串和 Authorization 头，不发送 / print the string to sign and the header, send nothing
#
# 例 Examples:
#   examples/sign-and-push.sh https://gateway.example.gov.cn/api/v1/batches docs/spec/examples/batch-valid.json
#   examples/sign-and-push.sh -a sm3 https://gateway.example.gov.cn/api/v1/batches docs/spec/examples/batch-valid-gbk.xml
#   examples/sign-and-push.sh https://gateway.example.gov.cn/api/v1/receipts/<回执编号 receipt id>
#
# 密钥从环境变量读取，以免出现在命令行历史中；但 openssl -hmac 会把它作为参数传给 openssl 进程，
# 本机其他用户可能在进程列表中短暂看到。生产系统请使用 src/client 或同等的库实现。
# The secret is read from the environment to keep it out of shell history, but `openssl -hmac` gets
# it as an argument, where other users of this machine may briefly see it in the process list.
# Production systems should sign in-process (src/client or an equivalent library).
#
# 仅用于复现文档示例 / only to reproduce the documented example: GOVGATE_TIMESTAMP, GOVGATE_NONCE.
# 不要在实际推送中固定随机数：重复的随机数会被拒绝（GOVGATE_AUTH_REPLAY）。
# Never fix the nonce for real requests: a repeated nonce is refused (GOVGATE_AUTH_REPLAY).
#
# 退出码 Exit status: 0 = HTTP 2xx; 22 = HTTP ≥ 300 (the answer is still printed); 2 = usage.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }

alg=sha256 method='' ctype='' print_only=0
while getopts 'a:X:H:ph' opt; do
  case $opt in
    a) alg=$OPTARG ;;
    X) method=$(printf '%s' "$OPTARG" | tr '[:lower:]' '[:upper:]') ;;
    H) ctype=$OPTARG ;;
    p) print_only=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] && [ $# -le 2 ] || usage
url=$1 file=${2:-}

: "${GOVGATE_KEY_ID:?请设置 GOVGATE_KEY_ID / set GOVGATE_KEY_ID}"
: "${GOVGATE_SECRET:?请设置 GOVGATE_SECRET / set GOVGATE_SECRET}"

case $alg in
  sha256) scheme=GOVGATE-HMAC-SHA256 ;;
  sm3)
    scheme=GOVGATE-HMAC-SM3
    # SM3 needs OpenSSL ≥ 1.1.1 built with it; some distributions leave it out.
    if ! openssl dgst -list 2>/dev/null | grep -qi -- '-sm3'; then
      echo "本机 openssl 不支持 SM3 / this openssl does not support SM3: $(openssl version)" >&2
      exit 2
    fi
    ;;
  *) echo "未知算法 unknown algorithm: $alg (sha256 | sm3)" >&2; exit 2 ;;
esac

if [ -n "$file" ]; then
  [ -r "$file" ] || { echo "无法读取文件 cannot read: $file" >&2; exit 2; }
  method=${method:-POST}
  if [ -z "$ctype" ]; then
    case $file in *.xml|*.XML) ctype=application/xml ;; *) ctype=application/json ;; esac
  fi
else
  method=${method:-GET}
  file=/dev/null   # the digest of an empty body
fi

# The request target exactly as curl sends it: everything after scheme://host[:port], without a
# fragment. curl runs with --path-as-is below so it does not rewrite "/./" or "/../"; the URL must
# already be percent-encoded, because the gateway checks the bytes it receives.
rest=${url#*://}
case $rest in */*) target=/${rest#*/} ;; *) target=/ ;; esac
target=${target%%#*}

timestamp=${GOVGATE_TIMESTAMP:-$(date +%s)}
nonce=${GOVGATE_NONCE:-$(openssl rand -hex 16)}

# Hex digest of the raw bytes as they will be sent (--data-binary sends the file unchanged).
digest=$(openssl dgst -"$alg" -r < "$file" | cut -d' ' -f1)
string_to_sign=$(printf '%s\n%s\n%s\n%s\n%s' "$method" "$target" "$timestamp" "$nonce" "$digest")
# printf, not echo: the string to sign ends without a newline. `openssl base64 -A` gives one line everywhere.
signature=$(printf '%s' "$string_to_sign" | openssl dgst -"$alg" -hmac "$GOVGATE_SECRET" -binary | openssl base64 -A)
authorization="$scheme keyId=$GOVGATE_KEY_ID, timestamp=$timestamp, nonce=$nonce, signature=$signature"

if [ "$print_only" = 1 ]; then
  printf '%s\n' "$string_to_sign"
  printf -- '---\n'
  printf 'Authorization: %s\n' "$authorization"
  exit 0
fi

response=$(mktemp)
trap 'rm -f "$response"' EXIT
args=(-sS --path-as-is -X "$method" -H "Authorization: $authorization" -H 'Accept: application/json'
      -o "$response" -w '%{http_code}')
if [ "$file" != /dev/null ]; then
  # "Expect:" stops curl from waiting for 100-continue on larger bodies.
  args+=(-H "Content-Type: $ctype" -H 'Expect:' --data-binary @"$file")
fi
# No -L: redirects are not followed; the signed body must not go anywhere else.
status=$(curl "${args[@]}" "$url")
cat "$response"
echo
echo "HTTP $status" >&2
case $status in 2??) exit 0 ;; *) exit 22 ;; esac
