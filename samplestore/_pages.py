"""The non-JSON pages a WordPress site answers with when things go wrong.

``DATABASE_ERROR_PAGE`` is, byte for byte, what the recorded store sent while its database
was down (``usd-error-500-database-down``): WordPress' ``wp_die`` page, CRLF line ends.
The others follow WordPress' own templates, shortened.
"""

from __future__ import annotations

DATABASE_ERROR_PAGE = "\r\n".join(
    [
        "<!DOCTYPE html>",
        "<html dir='ltr'>",
        "<head>",
        '\t<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />',
        '\t<meta name="viewport" content="width=device-width">',
        "\t\t\t<title>Database Error</title>",
        '\t<style type="text/css">',
        "\t\thtml {",
        "\t\t\tbackground: #f1f1f1;",
        "\t\t}",
        "\t\tbody {",
        "\t\t\tbackground: #fff;",
        "\t\t\tborder: 1px solid #ccd0d4;",
        "\t\t\tcolor: #444;",
        '\t\t\tfont-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Oxygen-Sans, Ubuntu, Cantarell, "Helvetica Neue", sans-serif;',  # noqa: E501
        "\t\t\tmargin: 2em auto;",
        "\t\t\tpadding: 1em 2em;",
        "\t\t\tmax-width: 700px;",
        "\t\t\t-webkit-box-shadow: 0 1px 1px rgba(0, 0, 0, .04);",
        "\t\t\tbox-shadow: 0 1px 1px rgba(0, 0, 0, .04);",
        "\t\t}",
        "\t\th1 {",
        "\t\t\tborder-bottom: 1px solid #dadada;",
        "\t\t\tclear: both;",
        "\t\t\tcolor: #666;",
        "\t\t\tfont-size: 24px;",
        "\t\t\tmargin: 30px 0 0 0;",
        "\t\t\tpadding: 0;",
        "\t\t\tpadding-bottom: 7px;",
        "\t\t}",
        "\t\t#error-page {",
        "\t\t\tmargin-top: 50px;",
        "\t\t}",
        "\t\t#error-page p,",
        "\t\t#error-page .wp-die-message {",
        "\t\t\tfont-size: 14px;",
        "\t\t\tline-height: 1.5;",
        "\t\t\tmargin: 25px 0 20px;",
        "\t\t}",
        "\t\t#error-page code {",
        "\t\t\tfont-family: Consolas, Monaco, monospace;",
        "\t\t}",
        "\t\tul li {",
        "\t\t\tmargin-bottom: 10px;",
        "\t\t\tfont-size: 14px ;",
        "\t\t}",
        "\t\ta {",
        "\t\t\tcolor: #0073aa;",
        "\t\t}",
        "\t\ta:hover,",
        "\t\ta:active {",
        "\t\t\tcolor: #006799;",
        "\t\t}",
        "\t\ta:focus {",
        "\t\t\tcolor: #124964;",
        "\t\t\t-webkit-box-shadow:",
        "\t\t\t\t0 0 0 1px #5b9dd9,",
        "\t\t\t\t0 0 2px 1px rgba(30, 140, 190, 0.8);",
        "\t\t\tbox-shadow:",
        "\t\t\t\t0 0 0 1px #5b9dd9,",
        "\t\t\t\t0 0 2px 1px rgba(30, 140, 190, 0.8);",
        "\t\t\toutline: none;",
        "\t\t}",
        "\t\t.button {",
        "\t\t\tbackground: #f3f5f6;",
        "\t\t\tborder: 1px solid #016087;",
        "\t\t\tcolor: #016087;",
        "\t\t\tdisplay: inline-block;",
        "\t\t\ttext-decoration: none;",
        "\t\t\tfont-size: 13px;",
        "\t\t\tline-height: 2;",
        "\t\t\theight: 28px;",
        "\t\t\tmargin: 0;",
        "\t\t\tpadding: 0 10px 1px;",
        "\t\t\tcursor: pointer;",
        "\t\t\t-webkit-border-radius: 3px;",
        "\t\t\t-webkit-appearance: none;",
        "\t\t\tborder-radius: 3px;",
        "\t\t\twhite-space: nowrap;",
        "\t\t\t-webkit-box-sizing: border-box;",
        "\t\t\t-moz-box-sizing:    border-box;",
        "\t\t\tbox-sizing:         border-box;",
        "",
        "\t\t\tvertical-align: top;",
        "\t\t}",
        "",
        "\t\t.button.button-large {",
        "\t\t\tline-height: 2.30769231;",
        "\t\t\tmin-height: 32px;",
        "\t\t\tpadding: 0 12px;",
        "\t\t}",
        "",
        "\t\t.button:hover,",
        "\t\t.button:focus {",
        "\t\t\tbackground: #f1f1f1;",
        "\t\t}",
        "",
        "\t\t.button:focus {",
        "\t\t\tbackground: #f3f5f6;",
        "\t\t\tborder-color: #007cba;",
        "\t\t\t-webkit-box-shadow: 0 0 0 1px #007cba;",
        "\t\t\tbox-shadow: 0 0 0 1px #007cba;",
        "\t\t\tcolor: #016087;",
        "\t\t\toutline: 2px solid transparent;",
        "\t\t\toutline-offset: 0;",
        "\t\t}",
        "",
        "\t\t.button:active {",
        "\t\t\tbackground: #f3f5f6;",
        "\t\t\tborder-color: #7e8993;",
        "\t\t\t-webkit-box-shadow: none;",
        "\t\t\tbox-shadow: none;",
        "\t\t}",
        "",
        "\t\t\t</style>",
        "</head>",
        '<body id="error-page">',
        '\t<div class="wp-die-message"><h1>Error establishing a database connection</h1></div></body>',  # noqa: E501
        "</html>",
        "\t",
    ]
)

MAINTENANCE_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head>\n"
    '\t<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />\n'
    "\t<title>Maintenance</title>\n</head>\n<body>\n"
    "\t<h1>Briefly unavailable for scheduled maintenance. Check back in a minute.</h1>\n"
    "</body>\n</html>\n"
)

LOGIN_PAGE = (
    '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n'
    '\t<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />\n'
    "\t<title>Log In &lsaquo; Bazgasht Sample Store &#8212; WordPress</title>\n"
    '\t<meta name="robots" content="max-image-preview:large, noindex, noarchive" />\n'
    "</head>\n"
    '<body class="login no-js login-action-login wp-core-ui locale-en-us">\n'
    '<div id="login">\n'
    '\t<h1><a href="https://wordpress.org/">Powered by WordPress</a></h1>\n'
    '\t<form name="loginform" id="loginform" action="/wp-login.php" method="post">\n'
    '\t\t<p><label for="user_login">Username or Email Address</label>\n'
    '\t\t<input type="text" name="log" id="user_login" class="input" size="20" /></p>\n'
    '\t\t<div class="user-pass-wrap"><label for="user_pass">Password</label>\n'
    '\t\t<input type="password" name="pwd" id="user_pass" class="input" size="20" /></div>\n'
    '\t\t<p class="submit"><input type="submit" name="wp-submit" id="wp-submit" '
    'class="button button-primary button-large" value="Log In" /></p>\n'
    "\t</form>\n</div>\n</body>\n</html>\n"
)


def gateway_page(status: int, reason: str) -> str:
    """What a proxy in front of the site (nginx, a CDN) sends for 502/504 and the like."""
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
