#!/usr/bin/env bash
# Stand up WordPress + WooCommerce + the Bazgasht plugin on loopback, from git mirrors
# brought onto this machine beforehand (see README.md beside this script), then check that
# My Account shows the Points section from meta written through WooCommerce's REST API.
#
#   wp-plugin/e2e/standup.sh --wordpress WP_GIT_DIR --woocommerce WC_GIT_DIR [options]
#
# Options (defaults in brackets):
#   --wp-rev REV       WordPress revision in WP_GIT_DIR             [6.4.3]
#   --wc-rev REV       WooCommerce revision in WC_GIT_DIR           [8.2.2]
#   --dir DIR          where the site is made (outside the repo!)  [/work/e2e/site]
#   --port PORT        the site's port on 127.0.0.1                 [8081]
#   --backend URL      the Bazgasht backend the plugin calls        [http://127.0.0.1:8700]
#   --store NAME       the store name in the backend's config       [e2e]
#   --db NAME          MariaDB database (dropped and made anew)     [bazgasht_e2e]
#   --no-check         stand up only, skip the Points page check
#   --stop             stop the site's server and exit
#
# Only loopback addresses are used. The site's secrets go to DIR/e2e.env (mode 600).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
plugin_src="$(cd "$here/../bazgasht" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"

wp_git="" wc_git="" wp_rev="6.4.3" wc_rev="8.2.2"
dir="/work/e2e/site" port=8081 backend="http://127.0.0.1:8700" store="e2e" db="bazgasht_e2e"
check=1 stop=0
while [ $# -gt 0 ]; do
  case "$1" in
    --wordpress) wp_git="$2"; shift 2 ;;
    --woocommerce) wc_git="$2"; shift 2 ;;
    --wp-rev) wp_rev="$2"; shift 2 ;;
    --wc-rev) wc_rev="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --backend) backend="$2"; shift 2 ;;
    --store) store="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    --no-check) check=0; shift ;;
    --stop) stop=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

url="http://127.0.0.1:${port}"
pidfile="$dir/server.pid"

stop_server() { # the server leads its own process group: its workers go with it
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill -- "-$(cat "$pidfile")" && echo "stopped the server (process group $(cat "$pidfile"))"
  fi
  rm -f "$pidfile"
}
if [ "$stop" = 1 ]; then stop_server; exit 0; fi

[ -n "$wp_git" ] && [ -n "$wc_git" ] || { echo "--wordpress and --woocommerce are required (see --help)" >&2; exit 2; }
case "$dir" in "$repo_root"|"$repo_root"/*) echo "--dir must be outside the repository: $dir" >&2; exit 2 ;; esac
case "$backend" in http://127.*|http://localhost*|http://\[::1\]*) ;; *) echo "--backend must be a loopback URL: $backend" >&2; exit 2 ;; esac
for tool in php git mysql curl; do command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }; done
php -m | grep -qi '^mysqli$' || { echo "PHP lacks mysqli: apt-get install php-mysql" >&2; exit 2; }

# A git dir (bare or not), a work tree, or an already extracted copy.
extract() { # SOURCE REV DEST MARKER
  local src="$1" rev="$2" dest="$3" marker="$4"
  rm -rf "$dest"; mkdir -p "$dest"
  if [ -f "$src/$marker" ]; then
    cp -a "$src/." "$dest/"
  else
    local gd="$src"; [ -d "$src/.git" ] && gd="$src/.git"
    git --git-dir="$gd" rev-parse --verify -q "$rev^{commit}" >/dev/null \
      || rev="$(git --git-dir="$gd" log --all --format=%H --grep="^woocommerce $rev " -n 1)"
    [ -n "$rev" ] || { echo "revision not found in $src" >&2; exit 2; }
    echo "  $src @ $(git --git-dir="$gd" rev-parse "$rev^{commit}")"
    git --git-dir="$gd" archive "$rev" | tar -x -C "$dest"
  fi
  [ -f "$dest/$marker" ] || { echo "$dest/$marker missing: not what was expected" >&2; exit 2; }
}

stop_server
echo "== 1/5 files into $dir"
mkdir -p "$dir"
extract "$wp_git" "$wp_rev" "$dir/wordpress" wp-load.php
rm -rf "$dir/wordpress/wp-content/plugins/woocommerce"
extract "$wc_git" "$wc_rev" "$dir/wordpress/wp-content/plugins/woocommerce" woocommerce.php
rm -rf "$dir/wordpress/wp-content/plugins/bazgasht"
cp -a "$plugin_src" "$dir/wordpress/wp-content/plugins/bazgasht"
rm -rf "$dir/wordpress/wp-content/plugins/bazgasht/tests" "$dir/wordpress/wp-content/plugins/bazgasht/phpunit.xml.dist"
grep -m1 "wp_version =" "$dir/wordpress/wp-includes/version.php"
grep -m1 "Version:" "$dir/wordpress/wp-content/plugins/woocommerce/woocommerce.php"

echo "== 2/5 database $db on 127.0.0.1:3306"
mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS \`$db\`; CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"

salt() { php -r 'echo bin2hex(random_bytes(32));'; }
cat > "$dir/wordpress/wp-config.php" <<PHP
<?php
// Throw-away loopback site made by wp-plugin/e2e/standup.sh.
define( 'DB_NAME', '$db' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '127.0.0.1:3306' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
\$table_prefix = 'wp_';
define( 'AUTH_KEY', '$(salt)' );
define( 'SECURE_AUTH_KEY', '$(salt)' );
define( 'LOGGED_IN_KEY', '$(salt)' );
define( 'NONCE_KEY', '$(salt)' );
define( 'AUTH_SALT', '$(salt)' );
define( 'SECURE_AUTH_SALT', '$(salt)' );
define( 'LOGGED_IN_SALT', '$(salt)' );
define( 'NONCE_SALT', '$(salt)' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', '$dir/debug.log' );
define( 'WP_DEBUG_DISPLAY', false );
// Nothing leaves this machine: no update checks, no marketplace, no remote calls except
// to this site's own host (127.0.0.1, any port: the Bazgasht backend) and localhost.
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_AUTO_UPDATE_CORE', false );
define( 'DISABLE_WP_CRON', true );
define( 'FS_METHOD', 'direct' );
define( 'WP_ENVIRONMENT_TYPE', 'local' );
// As behind a TLS-terminating proxy: a request saying it came over HTTPS is treated so,
// which lets WooCommerce's REST API take Basic auth (curl -u ck:cs) on loopback.
if ( isset( \$_SERVER['HTTP_X_FORWARDED_PROTO'] ) && 'https' === \$_SERVER['HTTP_X_FORWARDED_PROTO'] ) {
	\$_SERVER['HTTPS'] = 'on';
}
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
PHP

cat > "$dir/router.php" <<'PHP'
<?php
// Router for PHP's built-in server: real files are served as they are, the rest is WordPress.
$path = parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH );
$file = $_SERVER['DOCUMENT_ROOT'] . $path;
if ( '/' !== $path && ( is_file( $file ) || is_file( rtrim( $file, '/' ) . '/index.php' ) ) ) {
	return false;
}
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
PHP

echo "== 3/5 install WordPress, WooCommerce and the plugin"
php "$here/install-site.php" "$dir/wordpress" "$url" "$backend" "$store" "$dir/e2e.env"
echo "E2E_DB=$db" >>"$dir/e2e.env"

echo "== 4/5 server on $url"
# Several workers: a page that calls the backend, which calls back into this site's REST
# API (coupon creation), must not wait for itself.
# Own session and process group (so --stop ends the workers too), and no inherited
# descriptors (a caller's pipe would otherwise stay open as long as the server runs).
setsid bash -c 'for fd in /proc/$$/fd/*; do n="${fd##*/}"; [ "$n" -gt 2 ] && eval "exec $n>&-"; done
  cd "$1" && PHP_CLI_SERVER_WORKERS=4 exec php -S "127.0.0.1:$2" -t "$1/wordpress" "$1/router.php"' \
  _ "$dir" "$port" >"$dir/server.log" 2>&1 </dev/null &
echo $! >"$pidfile"
for _ in $(seq 1 50); do
  curl -fs -o /dev/null "$url/" && break
  sleep 0.2
done
curl -fs -o /dev/null "$url/" || { echo "the site does not answer; see $dir/server.log" >&2; exit 1; }
echo "  up (pid $(cat "$pidfile")); stop it with: $0 --stop --dir $dir"

if [ "$check" = 1 ]; then
  echo "== 5/5 pushed meta through the REST API → My Account shows it"
  "$here/check-points-page.sh" "$dir/e2e.env"
else
  echo "== 5/5 skipped (--no-check)"
fi
