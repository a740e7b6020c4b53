#!/usr/bin/env bash
# Check the stood-up site by hand, as the backend will use it: write a customer's loyalty
# state into the `bazgasht_loyalty` meta through WooCommerce's REST batch endpoint, read it
# back, then log in as the customer and look at My Account → Points, the dashboard and the
# cart (the backend is not running, so the pages must show the pushed meta, marked as
# possibly out of date, and say redeeming is unavailable).
#
#   wp-plugin/e2e/check-points-page.sh /work/e2e/site/e2e.env
set -euo pipefail
# shellcheck disable=SC1090
. "$1"
jar="$(mktemp)"; trap 'rm -f "$jar"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }
seen() { # NAME FILE TEXT...
  local name="$1" file="$2"; shift 2
  for text in "$@"; do grep -qF -- "$text" "$file" || fail "$name lacks: $text (page saved in $file)"; done
  echo "  ok: $name shows: $*"
}
out="$(dirname "$1")"

meta="$(cat <<JSON
{"update": [{"id": $E2E_CUSTOMER_ID, "meta_data": [{"key": "bazgasht_loyalty", "value": {
  "v": 1, "balance": 1340, "spendable": 1240, "value": "12.40", "currency": "USD",
  "expiring": {"points": 300, "on": "2030-03-01T00:00:00Z"},
  "coupons": [{"code": "bz-e2e0-7-abcd", "amount": "5.00", "expires_at": "2030-01-31T12:00:00Z", "status": "issued"}],
  "updated_at": "2026-05-01T10:00:00Z"}}]}]}
JSON
)"
# Basic auth needs HTTPS; X-Forwarded-Proto stands for the TLS proxy on loopback.
rest() { curl -fsS -u "$E2E_CONSUMER_KEY:$E2E_CONSUMER_SECRET" -H 'X-Forwarded-Proto: https' -H 'Content-Type: application/json' "$@"; }
rest -X POST --data "$meta" "$E2E_URL/wp-json/wc/v3/customers/batch" >"$out/batch.json"
php -r '$r = json_decode(file_get_contents($argv[1]), true); $u = $r["update"][0] ?? null;
  if (!$u || isset($u["error"])) { fwrite(STDERR, "batch refused: " . json_encode($r) . "\n"); exit(1); }
  foreach ($u["meta_data"] as $m) if ($m["key"] === "bazgasht_loyalty" && $m["value"]["spendable"] === 1240) { echo "  ok: customers/batch stored the meta (id {$m["id"]})\n"; exit(0); }
  fwrite(STDERR, "meta not in the batch answer\n"); exit(1);' "$out/batch.json"
rest "$E2E_URL/wp-json/wc/v3/customers/$E2E_CUSTOMER_ID" >"$out/customer.json"
php -r '$c = json_decode(file_get_contents($argv[1]), true);
  foreach ($c["meta_data"] as $m) if ($m["key"] === "bazgasht_loyalty") { echo "  ok: GET customers/{id} returns it as a JSON object: " . json_encode($m["value"]) . "\n"; exit(0); }
  exit(1);' "$out/customer.json" || fail "GET customer lacks the meta"

# Log in as the customer (the login form wants its test cookie first).
curl -fsS -c "$jar" -o /dev/null "$E2E_URL/wp-login.php"
user="${E2E_CUSTOMER_LOGIN%%:*}" pass="${E2E_CUSTOMER_LOGIN#*:}"
curl -fsS -b "$jar" -c "$jar" -o /dev/null --data-urlencode "log=$user" --data-urlencode "pwd=$pass" \
  --data "wp-submit=Log+In&testcookie=1&redirect_to=$E2E_URL/my-account/" "$E2E_URL/wp-login.php"
grep -q wordpress_logged_in "$jar" || fail "could not log in as $user"
echo "  ok: logged in as $user"

curl -fsS -b "$jar" "$E2E_URL/my-account/points/" >"$out/points.html"
seen "My Account → Points" "$out/points.html" \
  'Sara, here are your points.' '<dd class="bazgasht-balance">1,340 points</dd>' '1,240 points, worth $12.40' \
  '300 points expire on 2030-03-01.' 'As of 2026-05-01 10:00; this may be out of date.' '<code>bz-e2e0-7-abcd</code>' \
  'Recent activity is shown when the points service is reachable.'
curl -fsS -b "$jar" "$E2E_URL/my-account/" >"$out/dashboard.html"
seen "My Account dashboard" "$out/dashboard.html" 'You have 1,240 points worth $12.40.' '/my-account/points/' '>Points</a>'

curl -fsS -b "$jar" -c "$jar" -o /dev/null "$E2E_URL/?add-to-cart=$E2E_PRODUCT_ID"
curl -fsS -b "$jar" "$E2E_URL/cart/" >"$out/cart.html"
seen "cart" "$out/cart.html" 'You have 1,240 points worth $12.40.' 'Redeeming points is unavailable right now.' \
  'Your reward coupon bz-e2e0-7-abcd ($5.00, valid until 2030-01-31)' 'bazgasht.css'
echo "all checks passed (pages saved in $out)"
