#!/usr/bin/env bash
# The plugin's live path on the stood-up site, against stub-backend.php (a stand-in for
# `bazgasht serve` that follows docs/storefront-api.md): My Account and the cart show live
# points, "Use them" redeems through the signed API, the coupon (created on the shop
# through its REST API) lands in the cart, and submitting the same form again redeems
# nothing more.
#
#   wp-plugin/e2e/check-live-redeem.sh /work/e2e/site/e2e.env
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
env_file="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
# shellcheck disable=SC1090
. "$env_file"
out="$(dirname "$env_file")"
port="${E2E_BACKEND_URL##*:}"
case "$E2E_BACKEND_URL" in http://127.0.0.1:*) ;; *) echo "the stub only runs on http://127.0.0.1:PORT" >&2; exit 2 ;; esac
jar="$(mktemp)"
stop_stub() { [ -f "$out/stub.pid" ] && kill -- "-$(cat "$out/stub.pid")" 2>/dev/null; rm -f "$out/stub.pid" "$jar"; }
trap stop_stub EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }
seen() {
  local name="$1" file="$2"; shift 2
  for text in "$@"; do grep -qF -- "$text" "$file" || fail "$name lacks: $text (page saved in $file)"; done
  echo "  ok: $name shows: $*"
}

rm -f "$out/stub-state.json"
setsid bash -c 'for fd in /proc/$$/fd/*; do n="${fd##*/}"; [ "$n" -gt 2 ] && eval "exec $n>&-"; done
  E2E_ENV="$1" exec php -S "127.0.0.1:$2" "$3"' _ "$env_file" "$port" "$here/stub-backend.php" \
  >"$out/stub.log" 2>&1 </dev/null &
echo $! >"$out/stub.pid"
for _ in $(seq 1 50); do curl -s -o /dev/null "$E2E_BACKEND_URL/" && break; sleep 0.1; done
code="$(curl -s -o /dev/null -w '%{http_code}' "$E2E_BACKEND_URL/storefront/v1/stores/$E2E_STORE/program")"
[ "$code" = 401 ] || fail "the stub answered an unsigned request with $code"
echo "  ok: stub backend on $E2E_BACKEND_URL refuses unsigned requests (401)"
# The site remembers that the backend was down (30 s) and the program (1 h): forget both.
mysql -h 127.0.0.1 -u root "$E2E_DB" -e "DELETE FROM wp_options WHERE option_name LIKE '\\_transient\\_%bazgasht%' OR option_name LIKE '\\_transient\\_timeout\\_%bazgasht%'"

curl -fsS -c "$jar" -o /dev/null "$E2E_URL/wp-login.php"
curl -fsS -b "$jar" -c "$jar" -o /dev/null --data-urlencode "log=${E2E_CUSTOMER_LOGIN%%:*}" \
  --data-urlencode "pwd=${E2E_CUSTOMER_LOGIN#*:}" --data "wp-submit=Log+In&testcookie=1" "$E2E_URL/wp-login.php"
curl -fsS -b "$jar" -c "$jar" -o /dev/null "$E2E_URL/?add-to-cart=$E2E_PRODUCT_ID"

curl -fsS -b "$jar" -c "$jar" "$E2E_URL/cart/" >"$out/live-cart.html"
seen "cart (live)" "$out/live-cart.html" 'You have 1,240 points worth $12.40.' '<form class="bazgasht-redeem"' 'value="1240"'
grep -qF 'out of date' "$out/live-cart.html" && fail "the live cart says it may be out of date"
form="$(sed -n 's/.*\(<form class="bazgasht-redeem".*\)/\1/p' "$out/live-cart.html" | sed 's#</form>.*##')"
nonce="$(printf '%s' "$form" | sed -n 's/.*name="bazgasht_nonce" value="\([^"]*\)".*/\1/p')"
request="$(printf '%s' "$form" | sed -n 's/.*name="bazgasht_request" value="\([^"]*\)".*/\1/p')"
[ -n "$nonce" ] && [ -n "$request" ] || fail "no nonce or request id in the redeem form"

redeem() {
  curl -fsS -b "$jar" -c "$jar" -L -o "$1" --data "bazgasht_action=redeem&bazgasht_nonce=$nonce&bazgasht_points=600" \
    --data "bazgasht_request=$request&bazgasht_return=cart" "$E2E_URL/cart/"
}
redeem "$out/redeemed-cart.html"
coupon="$(sed -n 's/.*600 points redeemed: coupon \(bz-e2e0-[0-9]*-[0-9a-f]*\) worth.*/\1/p' "$out/redeemed-cart.html" | head -n 1)"
[ -n "$coupon" ] || fail "no redemption notice (page saved in $out/redeemed-cart.html)"
seen "cart after Use them" "$out/redeemed-cart.html" "600 points redeemed: coupon $coupon worth \$6.00." \
  "cart-discount coupon-$coupon" 'You have 640 points worth $6.40.'

redeem "$out/redeemed-again-cart.html"
count="$(php -r '$s = json_decode(file_get_contents($argv[1]), true); echo count($s["redemptions"]);' "$out/stub-state.json")"
[ "$count" = 1 ] || fail "the same form made $count redemptions"
coupons="$(curl -fsS -u "$E2E_CONSUMER_KEY:$E2E_CONSUMER_SECRET" -H 'X-Forwarded-Proto: https' "$E2E_URL/wp-json/wc/v3/coupons?search=bz-e2e0" \
  | php -r 'echo count(json_decode(stream_get_contents(STDIN), true));')"
[ "$coupons" = 1 ] || fail "$coupons reward coupons on the shop, expected 1"
seen "cart after the same form again" "$out/redeemed-again-cart.html" "cart-discount coupon-$coupon"
echo "  ok: the same form twice: 1 redemption, 1 coupon on the shop"

curl -fsS -b "$jar" "$E2E_URL/my-account/points/" >"$out/live-points.html"
seen "My Account → Points (live)" "$out/live-points.html" '<dd class="bazgasht-balance">740 points</dd>' \
  "Redeemed for coupon $coupon" 'Opening balance &lt;b&gt;for the e2e run&lt;/b&gt;' '<bdi>-600</bdi>'
grep -qF 'out of date' "$out/live-points.html" && fail "the live Points page says it may be out of date"
curl -fsS "$E2E_URL/?product=loopback-mug" >"$out/product.html"
seen "product page" "$out/product.html" 'Earn 65 points with this purchase.'
echo "all live checks passed (pages saved in $out, stub log $out/stub.log)"
