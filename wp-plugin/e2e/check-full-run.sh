#!/usr/bin/env bash
# The whole companion on the stood-up site, with the real backend (issue 13):
#
#   order placed and completed → webhook → ledger → meta pushed → My Account shows the
#   balance live → "Use them" in the cart → coupon applied → that order completed →
#   the points debited once.
#
#   wp-plugin/e2e/check-full-run.sh /work/e2e/site/e2e.env
#
# It configures Bazgasht for the site in DIR/bazgasht/ (config, SQLite database, logs),
# runs `bazgasht sync`, starts `bazgasht serve` on the plugin's backend address
# (E2E_BACKEND_URL, own process group, stopped at the end), installs the webhooks with
# `bazgasht webhooks install`, and plays Sara with curl. WooCommerce delivers webhooks
# through Action Scheduler, which a shop runs from WP-Cron; the stand-up runs WP-Cron only
# when asked, and its queue runner at most once a minute, so the script runs Action
# Scheduler's queue itself (as the fixtures' recorder did) after each step that should send
# a webhook. Timings are printed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
env_file="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
# shellcheck disable=SC1090
. "$env_file"
out="$(dirname "$env_file")"
work="$out/bazgasht"
cfg="$work/config.toml"
py="$repo/.venv/bin/python"
port="${E2E_BACKEND_URL##*:}"
case "$E2E_BACKEND_URL" in http://127.0.0.1:*) ;; *) echo "the backend runs on http://127.0.0.1:PORT only" >&2; exit 2 ;; esac
jar="$(mktemp)"
fail() { echo "FAILED: $*" >&2; exit 1; }
stop_serve() { [ -f "$work/serve.pid" ] && kill -- "-$(cat "$work/serve.pid")" 2>/dev/null; rm -f "$work/serve.pid" "$jar"; }
trap stop_serve EXIT
bz() { (cd "$repo" && "$py" -m cli --config "$cfg" "$@"); }
rest() { curl -fsS -u "$E2E_CONSUMER_KEY:$E2E_CONSUMER_SECRET" -H 'X-Forwarded-Proto: https' -H 'Content-Type: application/json' "$@"; }
deliver() { # what WP-Cron would do soon: run the due Action Scheduler actions (webhook deliveries)
  (cd "$out/wordpress" && php -r 'define("DOING_CRON", true); require "wp-load.php";
    ActionScheduler_QueueRunner::instance()->run("Bazgasht e2e");') >/dev/null
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
seen() {
  local name="$1" file="$2"; shift 2
  for text in "$@"; do grep -qF -- "$text" "$file" || fail "$name lacks: $text (page saved in $file)"; done
  echo "  ok: $name shows: $*"
}
ledger() { # SQL on Bazgasht's database, one value
  (cd "$repo" && "$py" - "$work/bazgasht.sqlite" "$1" <<'PY'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if row is None or row[0] is None else row[0])
PY
  )
}
wait_for() { # wait_for SECONDS DESCRIPTION 'SHELL CONDITION': until it holds (evaluated anew)
  local limit="$1" what="$2" condition="$3"
  local start; start="$(now)"
  until eval "$condition"; do
    awk -v a="$start" -v b="$(now)" -v l="$limit" 'BEGIN { exit !(b - a > l) }' && fail "no $what after $limit s"
    sleep 0.05
  done
}

echo "== 1/6  Bazgasht for $E2E_URL (config and database in $work)"
export E2E_STORE E2E_URL E2E_CONSUMER_KEY E2E_CONSUMER_SECRET E2E_SHARED_SECRET
rm -rf "$work"; mkdir -p "$work"; chmod 700 "$work"
(cd "$repo" && E2E_CFG="$cfg" E2E_DBURL="sqlite:///$work/bazgasht.sqlite" "$py" - <<'PY'
import os
from pathlib import Path
from app import Config, StoreConfig, save_config
save_config(Path(os.environ["E2E_CFG"]), Config(
    database_url=os.environ["E2E_DBURL"],
    stores={os.environ["E2E_STORE"]: StoreConfig(
        url=os.environ["E2E_URL"],
        consumer_key=os.environ["E2E_CONSUMER_KEY"],
        consumer_secret=os.environ["E2E_CONSUMER_SECRET"],
        # The plugin's shared secret, as `bazgasht storefront secret` would have made it.
        storefront_secret=os.environ["E2E_SHARED_SECRET"],
        # Sara's account predates this run: let her welcome points count, and a small
        # minimum so that one mug's points can be spent.
        loyalty={"starts_at": "2000-01-01T00:00:00+00:00", "min_redeem_points": 100},
    )},
))
PY
)
bz sync --store "$E2E_STORE"
# WooCommerce delivers with wp_safe_remote_request(), which takes only ports 80, 443 and 8080
# (or the site's own): a real shop delivers to the proxy's https:// address. This loopback
# site lets the backend's port through with a must-use plugin of the test site alone.
mkdir -p "$out/wordpress/wp-content/mu-plugins"
cat >"$out/wordpress/wp-content/mu-plugins/bazgasht-e2e-port.php" <<PHP
<?php
// wp-plugin/e2e/check-full-run.sh: let WooCommerce deliver webhooks to the e2e backend's port.
add_filter( 'http_allowed_safe_ports', function ( \$ports ) { \$ports[] = $port; return \$ports; } );
PHP
echo "  ok: the test site may deliver to port $port (mu-plugin bazgasht-e2e-port.php)"
# The stand-up's fake meta (1,240 points) is not Bazgasht's: the first push replaces it.
rest -X PUT --data '{"virtual": true}' "$E2E_URL/wp-json/wc/v3/products/$E2E_PRODUCT_ID" >/dev/null
echo "  ok: the mug is virtual (no shipping zone needed at checkout)"
for id in $(rest "$E2E_URL/wp-json/wc/v3/webhooks?per_page=100" | php -r 'foreach (json_decode(stream_get_contents(STDIN), true) as $w) echo $w["id"], "\n";'); do
  rest -X DELETE "$E2E_URL/wp-json/wc/v3/webhooks/$id?force=true" >/dev/null  # an earlier run's
done

echo "== 2/6  bazgasht serve on $E2E_BACKEND_URL, webhooks installed"
setsid bash -c 'cd "$1" && exec "$2" -m cli --config "$3" serve --port "$4"' _ "$repo" "$py" "$cfg" "$port" \
  >"$work/serve.log" 2>&1 </dev/null &
echo $! >"$work/serve.pid"
wait_for 30 "answer from bazgasht serve" 'curl -fs -o /dev/null "$E2E_BACKEND_URL/healthz"'
bz webhooks install --store "$E2E_STORE" --url "$E2E_BACKEND_URL"
bz webhooks status --store "$E2E_STORE" >/dev/null || fail "webhooks not all active"
pings="$(grep -c 'POST /webhooks/woocommerce/' "$work/serve.log" || true)"
[ "$pings" -ge 6 ] || fail "$pings pings reached bazgasht serve, expected 6 (see $work/serve.log)"
echo "  ok: 6 webhooks active, their 6 pings answered 200"
mysql -h 127.0.0.1 -u root "$E2E_DB" -e "DELETE FROM wp_options WHERE option_name LIKE '\\_transient\\_%bazgasht%' OR option_name LIKE '\\_transient\\_timeout\\_%bazgasht%'"

echo "== 3/6  Sara orders the mug; the order is completed"
# An empty cart to start with (the stand-up's check left a mug in Sara's saved cart).
mysql -h 127.0.0.1 -u root "$E2E_DB" -e "DELETE FROM wp_usermeta WHERE meta_key LIKE '\_woocommerce\_persistent\_cart%'; DELETE FROM wp_woocommerce_sessions"
curl -fsS -c "$jar" -o /dev/null "$E2E_URL/wp-login.php"
curl -fsS -b "$jar" -c "$jar" -o /dev/null --data-urlencode "log=${E2E_CUSTOMER_LOGIN%%:*}" \
  --data-urlencode "pwd=${E2E_CUSTOMER_LOGIN#*:}" --data "wp-submit=Log+In&testcookie=1" "$E2E_URL/wp-login.php"
checkout() { # place the cart's order with cash on delivery; prints the order id
  curl -fsS -b "$jar" -c "$jar" "$E2E_URL/checkout/" >"$out/checkout.html"
  local nonce
  nonce="$(sed -n 's/.*name="woocommerce-process-checkout-nonce" value="\([^"]*\)".*/\1/p' "$out/checkout.html" | head -n 1)"
  [ -n "$nonce" ] || fail "no checkout nonce (page saved in $out/checkout.html)"
  curl -fsS -b "$jar" -c "$jar" "$E2E_URL/?wc-ajax=checkout" \
    --data "billing_first_name=Sara&billing_last_name=Loop&billing_country=US&billing_state=CA" \
    --data "billing_address_1=1+Loopback+Way&billing_city=Localhost&billing_postcode=90001" \
    --data-urlencode "billing_phone=+1 555 0100" --data-urlencode "billing_email=sara@shop.test" \
    --data "payment_method=cod&woocommerce-process-checkout-nonce=$nonce&_wp_http_referer=%2Fcheckout%2F" \
    >"$out/checkout-answer.json"
  php -r '$a = json_decode(file_get_contents($argv[1]), true);
    if (($a["result"] ?? "") !== "success") { fwrite(STDERR, "checkout: " . ($a["messages"] ?? json_encode($a)) . "\n"); exit(1); }
    preg_match("#order-received/(\d+)#", $a["redirect"], $m); echo $m[1];' "$out/checkout-answer.json"
}
curl -fsS -b "$jar" -c "$jar" -o /dev/null "$E2E_URL/?add-to-cart=$E2E_PRODUCT_ID"
first="$(checkout)"
echo "  ok: order $first placed at checkout (processing, cash on delivery)"
deliver
wait_for 10 "order $first in the mirror" 'test -n "$(ledger "SELECT status FROM orders WHERE wc_id = $first")"'
started="$(now)"
rest -X PUT --data '{"status":"completed"}' "$E2E_URL/wp-json/wc/v3/orders/$first" >/dev/null
deliver
cashback_sql="SELECT sum(points) FROM loyalty_ledger WHERE key = 'cashback:$E2E_STORE:$first'"
wait_for 10 "cashback for order $first" 'test -n "$(ledger "$cashback_sql")"'
earned="$(ledger "$cashback_sql")"
echo "  ok: completed → $earned points of cashback in the ledger after $(since "$started") s (REST call, queue run, delivery, apply)"
balance="$(ledger "SELECT sum(points) FROM loyalty_ledger WHERE identity = 'customer:$E2E_CUSTOMER_ID'")"
[ "$earned" = 65 ] || fail "expected 65 points for 32.68 at 2 %, got $earned"
meta_balance() {
  rest "$E2E_URL/wp-json/wc/v3/customers/$E2E_CUSTOMER_ID" \
    | php -r '$c = json_decode(stream_get_contents(STDIN), true); foreach ($c["meta_data"] as $m) if ($m["key"] === "bazgasht_loyalty") echo $m["value"]["balance"];'
}
wait_for 10 "pushed meta" 'test "$(meta_balance)" = "$balance"'
echo "  ok: the meta on Sara's account says $balance points, as the ledger does, pushed after $(since "$started") s"

echo "== 4/6  My Account shows the balance live"
curl -fsS -b "$jar" "$E2E_URL/my-account/points/" >"$out/full-points.html"
seen "My Account → Points" "$out/full-points.html" "<dd class=\"bazgasht-balance\">$balance points</dd>" "Cashback on order $first"
grep -qF 'out of date' "$out/full-points.html" && fail "the Points page shows the pushed copy, not the live state"
echo "  ok: live (no \"out of date\" line)"

echo "== 5/6  Use them at the cart: the coupon is applied, the same form again changes nothing"
curl -fsS -b "$jar" -c "$jar" -o /dev/null "$E2E_URL/?add-to-cart=$E2E_PRODUCT_ID"
curl -fsS -b "$jar" -c "$jar" "$E2E_URL/cart/" >"$out/full-cart.html"
form="$(sed -n 's/.*\(<form class="bazgasht-redeem".*\)/\1/p' "$out/full-cart.html" | sed 's#</form>.*##')"
nonce="$(printf '%s' "$form" | sed -n 's/.*name="bazgasht_nonce" value="\([^"]*\)".*/\1/p')"
request="$(printf '%s' "$form" | sed -n 's/.*name="bazgasht_request" value="\([^"]*\)".*/\1/p')"
[ -n "$nonce" ] && [ -n "$request" ] || fail "no Use them form in the cart (page saved in $out/full-cart.html)"
redeem() {
  curl -fsS -b "$jar" -c "$jar" -L -o "$1" --data "bazgasht_action=redeem&bazgasht_nonce=$nonce&bazgasht_points=150" \
    --data "bazgasht_request=$request&bazgasht_return=cart" "$E2E_URL/cart/"
}
started="$(now)"
redeem "$out/full-redeemed-cart.html"
code="$(ledger "SELECT code FROM loyalty_redemptions WHERE request_id = '$request'")"
[ -n "$code" ] || fail "no redemption for request $request (page saved in $out/full-redeemed-cart.html)"
seen "cart after Use them" "$out/full-redeemed-cart.html" "150 points redeemed: coupon $code worth \$1.50." "cart-discount coupon-$code"
echo "  ok: redeemed in $(since "$started") s (signed POST, coupon made on the shop through its REST API)"
redeem "$out/full-redeemed-again-cart.html"
[ "$(ledger "SELECT count(*) FROM loyalty_redemptions")" = 1 ] || fail "the same form made a second redemption"
[ "$(rest "$E2E_URL/wp-json/wc/v3/coupons?search=$code" | php -r 'echo count(json_decode(stream_get_contents(STDIN), true));')" = 1 ] \
  || fail "not exactly one coupon $code on the shop"
echo "  ok: the same form again: still 1 redemption, 1 coupon on the shop"

echo "== 6/6  that order, with the coupon, is completed: the points were debited once"
second="$(checkout)"
rest "$E2E_URL/wp-json/wc/v3/orders/$second" | grep -qF "\"code\":\"$code\"" || fail "order $second does not carry coupon $code"
echo "  ok: order $second placed with coupon $code"
started="$(now)"
rest -X PUT --data '{"status":"completed"}' "$E2E_URL/wp-json/wc/v3/orders/$second" >/dev/null
deliver
used_sql="SELECT status FROM loyalty_redemptions WHERE code = '$code'"
wait_for 10 "redemption marked used" 'test "$(ledger "$used_sql")" = used'
echo "  ok: the redemption is used by order $second ($(since "$started") s after the completion)"
bz loyalty history "$E2E_CUSTOMER_ID" --store "$E2E_STORE" --format json >"$work/history.json"
php -r '$h = json_decode(file_get_contents($argv[1]), true); $e = $h["entries"] ?? $h;
  $r = array_values(array_filter($e, function ($x) { return $x["kind"] === "redemption"; }));
  if (count($r) !== 1 || $r[0]["points"] !== -150) { fwrite(STDERR, "redemption entries: " . json_encode($r) . "\n"); exit(1); }
  echo "  ok: loyalty history: one redemption entry, -150 points\n";' "$work/history.json"
final="$(ledger "SELECT sum(points) FROM loyalty_ledger WHERE identity = 'customer:$E2E_CUSTOMER_ID'")"
wait_for 10 "final meta" 'test "$(meta_balance)" = "$final"'
echo "  ok: balance now $final points (pushed to the meta as well)"
grep -q "Traceback" "$work/serve.log" && fail "bazgasht serve logged a traceback (see $work/serve.log)"
echo "all full-run checks passed (pages in $out, Bazgasht's log $work/serve.log)"
