"""The REST API: one request in, one response out, the way WordPress + WooCommerce do it.

The order of checks is WordPress': WooCommerce authentication (only for ``/wc/`` routes) →
the key's read/write permission → route matching → parameter validation → the route's
permission check (no user: 401 ``woocommerce_rest_cannot_*``) → the handler. Headers are
the recorded ones: ``Vary: Origin`` when nobody is logged in, the no-cache pair when
somebody is, ``Allow`` only when the route matched and the user may use it.

Pure request handling, no sockets: ``_server.py`` feeds it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote
from zoneinfo import ZoneInfo

from samplestore._data import (
    STATUS_CODE,
    STATUSES,
    TRASH,
    CouponRecord,
    CustomerQuery,
    OrderQuery,
    StoreData,
)
from samplestore._oauth import (
    ApiKey,
    KeyRing,
    PhpArray,
    PhpValue,
    flatten,
    parse_php_query,
    php_urlencode,
)

if TYPE_CHECKING:
    from samplestore._webhooks import WebhookHub

from samplestore._render import (
    SITE_NAME,
    Site,
    gmt_offset,
    render_coupon,
    render_customer,
    render_order,
    render_refund,
    settings_general,
    system_status,
    wp_json,
)

JSON_TYPE = "application/json; charset=UTF-8"
_NO_ROUTE = ("rest_no_route", "No route was found matching the URL and request method.")


@dataclass
class Request:
    method: str
    path: str  #: as sent, still percent-encoded
    query: list[tuple[str, str]]  #: decoded pairs, in order, duplicates included
    headers: Mapping[str, str]  #: names lower-cased
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: bytes
    #: Every header but Content-Type / Content-Length / Transfer-Encoding, in order.
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = JSON_TYPE


class ApiError(Exception):
    """A WordPress REST error: ``{"code", "message", "data": {"status", ...}}``."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "data": {"status": self.status, **self.data},
        }


# ----------------------------------------------------------------------------- arguments


@dataclass(frozen=True)
class Arg:
    """One argument of a route, as WordPress validates and sanitizes it."""

    kind: str  #: integer, string, boolean, date, email, enum, int_list, enum_list, str_list, list
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] = ()
    required: bool = False


def _wp_list(items: tuple[str, ...]) -> str:
    """``wp_sprintf('%l', ...)``: "a, b, and c"."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_EMAIL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        try:
            return float(value.strip()).is_integer()
        except ValueError:
            return False
    return False


def _as_list(value: Any) -> list[Any] | None:
    """WordPress' ``wp_parse_list``: arrays as they are, strings split on commas/spaces."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if v]
    return None


def check_arg(name: str, arg: Arg, value: Any) -> Any:
    """The sanitized value, or ``ApiError`` details via ``_Invalid``."""
    kind = arg.kind
    if kind == "integer":
        if not _is_int(value):
            raise _Invalid(name, "rest_invalid_type", f"{name} is not of type integer.")
        number = int(float(value))
        low, high = arg.minimum, arg.maximum
        if low is not None and high is not None and not low <= number <= high:
            raise _Invalid(
                name,
                "rest_out_of_bounds",
                f"{name} must be between {low} (inclusive) and {high} (inclusive)",
            )
        if low is not None and high is None and number < low:
            raise _Invalid(
                name, "rest_out_of_bounds", f"{name} must be greater than or equal to {low}"
            )
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        raise _Invalid(name, "rest_invalid_type", f"{name} is not of type boolean.")
    if kind in ("string", "date", "email", "enum"):
        if not isinstance(value, str):
            raise _Invalid(name, "rest_invalid_type", f"{name} is not of type string.")
        if kind == "date" and (not _DATE.match(value) or _parse_date(value, UTC) is None):
            raise _Invalid(name, "rest_invalid_date", "Invalid date.")
        if kind == "email" and not _EMAIL.match(value):
            raise _Invalid(name, "rest_invalid_email", "Invalid email address.")
        if kind == "enum" and value not in arg.enum:
            raise _Invalid(name, "rest_not_in_enum", f"{name} is not one of {_wp_list(arg.enum)}.")
        return value
    items = _as_list(value)
    if items is None:
        raise _Invalid(name, "rest_invalid_type", f"{name} is not of type array.")
    item_arg = {
        "int_list": Arg("integer"),
        "enum_list": Arg("enum", enum=arg.enum),
        "str_list": Arg("string"),
    }.get(kind)
    if item_arg is None:
        return items
    return [check_arg(f"{name}[{i}]", item_arg, v) for i, v in enumerate(items)]


class _Invalid(Exception):
    def __init__(self, name: str, code: str, message: str) -> None:
        super().__init__(message)
        self.name, self.code, self.message = name, code, message


def _parse_date(value: str, zone: Any) -> datetime | None:
    """A request date: with an offset it is absolute, without it is in ``zone``."""
    text = value.strip().replace(" ", "T").replace("t", "T")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


_PAGING = {
    "context": Arg("enum", enum=("view", "edit")),
    "page": Arg("integer", minimum=1),
    "per_page": Arg("integer", minimum=1, maximum=100),
    "search": Arg("string"),
    "offset": Arg("integer"),
    "order": Arg("enum", enum=("asc", "desc")),
    "include": Arg("int_list"),
    "exclude": Arg("int_list"),
}
_DATES = {
    "after": Arg("date"),
    "before": Arg("date"),
    "modified_after": Arg("date"),
    "modified_before": Arg("date"),
    "dates_are_gmt": Arg("boolean"),
}
_POST_ORDERBY = ("date", "id", "include", "title", "slug", "modified")
ORDER_ARGS = {
    **_PAGING,
    **_DATES,
    "orderby": Arg("enum", enum=_POST_ORDERBY),
    "parent": Arg("int_list"),
    "parent_exclude": Arg("int_list"),
    "status": Arg("enum_list", enum=("any", "trash", *[s for s in STATUSES if s != "trash"])),
    "customer": Arg("integer"),
    "product": Arg("integer"),
    "dp": Arg("integer"),
}
REFUND_ARGS = {
    **_PAGING,
    **_DATES,
    "orderby": Arg("enum", enum=_POST_ORDERBY),
    "parent": Arg("int_list"),
    "parent_exclude": Arg("int_list"),
    "dp": Arg("integer"),
}
CUSTOMER_ARGS = {
    **_PAGING,
    "orderby": Arg("enum", enum=("id", "include", "name", "registered_date")),
    "email": Arg("email"),
    "role": Arg(
        "enum",
        enum=(
            "all",
            "administrator",
            "editor",
            "author",
            "contributor",
            "subscriber",
            "customer",
            "shop_manager",
        ),
    ),
}
COUPON_LIST_ARGS = {
    **_PAGING,
    **_DATES,
    "orderby": Arg("enum", enum=_POST_ORDERBY),
    "code": Arg("string"),
}
COUPON_WRITE_ARGS = {
    "code": Arg("string"),
    "amount": Arg("string"),
    "discount_type": Arg("enum", enum=("percent", "fixed_cart", "fixed_product")),
    "description": Arg("string"),
    "date_expires": Arg("string"),
    "date_expires_gmt": Arg("string"),
    "individual_use": Arg("boolean"),
    "product_ids": Arg("int_list"),
    "excluded_product_ids": Arg("int_list"),
    "usage_limit": Arg("integer"),
    "usage_limit_per_user": Arg("integer"),
    "limit_usage_to_x_items": Arg("integer"),
    "free_shipping": Arg("boolean"),
    "product_categories": Arg("int_list"),
    "excluded_product_categories": Arg("int_list"),
    "exclude_sale_items": Arg("boolean"),
    "minimum_amount": Arg("string"),
    "maximum_amount": Arg("string"),
    "email_restrictions": Arg("str_list"),
    "meta_data": Arg("list"),
    "status": Arg("string"),
}
WEBHOOK_LIST_ARGS = {
    **_PAGING,
    "status": Arg("enum", enum=("all", "active", "paused", "disabled")),
}
WEBHOOK_WRITE_ARGS = {
    "name": Arg("string"),
    "topic": Arg("string"),
    "delivery_url": Arg("string"),
    "secret": Arg("string"),
    "status": Arg("enum", enum=("active", "paused", "disabled")),
}
ORDER_WRITE_ARGS = {
    "status": Arg("enum", enum=tuple(s for s in STATUSES if s != "trash")),
    "customer_id": Arg("integer"),
    "customer_note": Arg("string"),
}
_SINGLE = {"context": Arg("enum", enum=("view", "edit"))}
_FORCE = {"force": Arg("boolean")}


# ----------------------------------------------------------------------------- the API


@dataclass
class Call:
    """What a handler gets: the validated arguments and the context of the request."""

    method: str
    match: dict[str, str]
    args: dict[str, Any]  #: validated and sanitized (query, overlaid by a JSON body)
    query: PhpArray  #: the raw ``$_GET``, for Link headers
    body: dict[str, Any]
    now: int
    key: ApiKey | None


Handler = Callable[["Api", Call], Response]


@dataclass(frozen=True)
class Endpoint:
    handler: Handler
    args: Mapping[str, Arg]
    permission: str | None  #: None: public; else "list", "view", "create", "edit", "delete"
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    endpoints: Mapping[str, Endpoint]  #: method → endpoint
    namespace: str

    @property
    def allow(self) -> str:
        return ", ".join(self.endpoints)


_CANNOT = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": (
        "woocommerce_rest_cannot_delete",
        "Sorry, you are not allowed to delete this resource.",
    ),
}


class Api:
    """Answers requests for one store."""

    def __init__(
        self,
        data: StoreData,
        site: Site,
        keys: KeyRing,
        *,
        allow_basic_over_http: bool = False,
        unstable_ties: bool = False,
    ) -> None:
        self.data, self.site, self.keys = data, site, keys
        #: The store's webhooks (``SampleStore`` sets it); None: no webhook routes.
        self.webhooks: WebhookHub | None = None
        self.allow_basic_over_http = allow_basic_over_http
        self.unstable_ties = unstable_ties
        self.zone: Any = UTC if site.timezone == "UTC" else ZoneInfo(site.timezone)
        self.routes = _routes()
        # WooCommerce added modified_after/modified_before in 5.8; older ones ignore them.
        self.filters_by_modified = _version(site.wc_version) >= (5, 8)

    # ------------------------------------------------------------------ plumbing

    def wp_headers(
        self,
        *,
        authenticated: bool,
        link: str | None = None,
        totals: tuple[int, int] | None = None,
        location: str | None = None,
        allow: str | None = None,
    ) -> list[tuple[str, str]]:
        headers = [
            ("X-Robots-Tag", "noindex"),
            ("Link", link or f'<{self.site.url}/wp-json/>; rel="https://api.w.org/"'),
            ("X-Content-Type-Options", "nosniff"),
            ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
            (
                "Access-Control-Allow-Headers",
                "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type",
            ),
        ]
        if not authenticated:
            headers.append(("Vary", "Origin"))
        if totals is not None:
            headers += [("X-WP-Total", str(totals[0])), ("X-WP-TotalPages", str(totals[1]))]
        if location:
            headers.append(("Location", location))
        if allow:
            headers.append(("Allow", allow))
        if authenticated:
            headers += [
                ("Expires", "Wed, 11 Jan 1984 05:00:00 GMT"),
                ("Cache-Control", "no-cache, must-revalidate, max-age=0, no-store, private"),
            ]
        return headers

    def error(self, err: ApiError, *, authenticated: bool, allow: str | None = None) -> Response:
        return Response(
            err.status,
            wp_json(err.body()),
            self.wp_headers(authenticated=authenticated, allow=allow),
        )

    def handle(self, request: Request, now: int) -> Response:
        """Answer one request; ``now`` is the store's clock (epoch seconds)."""
        method = "GET" if request.method == "HEAD" else request.method
        path = request.path.split("?", 1)[0]
        params = parse_php_query(request.query)
        content_type = (request.headers.get("content-type") or "").lower()
        if request.body and "application/x-www-form-urlencoded" in content_type:
            form = parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            params = {**params, **parse_php_query(form)}
        if path.rstrip("/") in ("", "/index.php") and isinstance(params.get("rest_route"), str):
            route_path = str(params["rest_route"])
        elif path == "/wp-json" or path.startswith("/wp-json/"):
            route_path = unquote(path[len("/wp-json") :])
        else:
            return Response(
                404,
                b"<!DOCTYPE html><html><head><title>Page not found</title></head>"
                b"<body><h1>Page not found</h1></body></html>",
                [("Cache-Control", "no-cache, must-revalidate, max-age=0")],
                "text/html; charset=UTF-8",
            )
        route_path = route_path.rstrip("/") or "/"

        key: ApiKey | None = None
        if route_path.startswith("/wc/"):
            outcome = self.keys.authenticate(
                method=method,
                url=self.site.url + path,
                params=params,
                authorization=request.headers.get("authorization"),
                https=self.allow_basic_over_http,
            )
            if outcome.error is not None:
                return self.error(ApiError(401, *outcome.error), authenticated=False)
            key = outcome.key
            if key is not None:
                refusal = key.may(method)
                if refusal is not None:
                    err = ApiError(401, "woocommerce_rest_authentication_error", refusal)
                    return self.error(err, authenticated=True)
        authenticated = key is not None

        for route in self.routes:
            match = route.pattern.fullmatch(route_path)
            if match is not None:
                break
        else:
            return self.error(ApiError(404, *_NO_ROUTE), authenticated=authenticated)
        endpoint = route.endpoints.get(method)
        if endpoint is None:
            return self.error(ApiError(404, *_NO_ROUTE), authenticated=authenticated)
        allow = route.allow if (authenticated or endpoint.permission is None) else None

        body: dict[str, Any] = {}
        if request.body and "json" in content_type:
            try:
                parsed = json.loads(request.body)
            except (ValueError, UnicodeDecodeError):
                err = ApiError(
                    400,
                    "rest_invalid_json",
                    "Invalid JSON body passed.",
                    json_error_code=4,
                    json_error_message="Syntax error",
                )
                return self.error(err, authenticated=authenticated, allow=allow)
            if isinstance(parsed, dict):
                body = parsed
        try:
            args = self._validate(endpoint, params, body)
            if endpoint.permission is not None and key is None:
                code, message = _CANNOT[endpoint.permission]
                return self.error(ApiError(401, code, message), authenticated=False)
            call = Call(method, match.groupdict(), args, params, body, now, key)
            with self.data.lock:
                response = endpoint.handler(self, call)
        except ApiError as err:
            return self.error(err, authenticated=authenticated, allow=allow)
        if allow and not any(name == "Allow" for name, _ in response.headers):
            response.headers = self._with_allow(response.headers, allow)
        if "_fields" in params and response.status < 300:
            response.body = wp_json(
                _only_fields(json.loads(response.body), flatten(params["_fields"]))
            )
        return response

    @staticmethod
    def _with_allow(headers: list[tuple[str, str]], allow: str) -> list[tuple[str, str]]:
        # WordPress sends Allow just before the no-cache pair.
        for i, (name, _) in enumerate(headers):
            if name == "Expires":
                return [*headers[:i], ("Allow", allow), *headers[i:]]
        return [*headers, ("Allow", allow)]

    def _validate(
        self, endpoint: Endpoint, params: PhpArray, body: dict[str, Any]
    ) -> dict[str, Any]:
        merged: dict[str, Any] = {**params, **body}
        missing = [name for name in endpoint.required if merged.get(name) in (None, "")]
        if missing:
            raise ApiError(
                400,
                "rest_missing_callback_param",
                f"Missing parameter(s): {', '.join(missing)}",
                params=missing,
            )
        args: dict[str, Any] = {}
        invalid: dict[str, _Invalid] = {}
        for name, arg in endpoint.args.items():
            if name not in merged:
                continue
            if name in ("modified_after", "modified_before") and not self.filters_by_modified:
                continue  # an unknown parameter to this WooCommerce: ignored, not validated
            try:
                args[name] = check_arg(name, arg, merged[name])
            except _Invalid as bad:
                invalid[name] = bad
        if invalid:
            raise ApiError(
                400,
                "rest_invalid_param",
                f"Invalid parameter(s): {', '.join(invalid)}",
                params={name: bad.message for name, bad in invalid.items()},
                details={
                    name: {"code": bad.code, "message": bad.message, "data": None}
                    for name, bad in invalid.items()
                },
            )
        return args

    def instant(self, value: str, gmt: bool) -> int:
        moment = _parse_date(value, UTC if gmt else self.zone)
        assert moment is not None  # validated
        return int(moment.timestamp())

    # ------------------------------------------------------------------ paging

    def link_header(
        self,
        route: str,
        query: PhpArray,
        args: Mapping[str, Any],
        page: int,
        max_pages: int,
        extra: PhpArray,
    ) -> str | None:
        """WooCommerce's ``Link``: the request's own query (sanitized values, OAuth
        parameters included) plus what the controller wrote back, with ``page`` changed."""
        params: PhpArray = dict(query)
        for name, value in args.items():
            if name in params:
                params[name] = _php_value(value)
        for name, value in extra.items():
            params[name] = value
        base = f"{self.site.api}/{route}"
        links = []
        if page > 1:
            links.append((min(page - 1, max_pages), "prev"))
        if max_pages > page:
            links.append((page + 1, "next"))
        if not links:
            return None
        parts = []
        for target, rel in links:
            with_page = dict(params)
            with_page["page"] = str(target)
            parts.append(f'<{base}?{_build_query(with_page)}>; rel="{rel}"')
        return ", ".join(parts)

    def paged(
        self,
        call: Call,
        route: str,
        items: list[Any],
        total: int,
        extra: PhpArray | None = None,
        *,
        status: int = 200,
    ) -> Response:
        per_page = int(call.args.get("per_page", 10))
        page = int(call.args.get("page", 1))
        max_pages = -(-total // per_page) if total else 0
        link = self.link_header(route, call.query, call.args, page, max_pages, extra or {})
        return Response(
            status,
            wp_json(items),
            self.wp_headers(authenticated=True, link=link, totals=(total, max_pages)),
        )

    def ok(self, body: Any, *, status: int = 200, location: str | None = None) -> Response:
        return Response(
            status, wp_json(body), self.wp_headers(authenticated=True, location=location)
        )


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = re.match(r"\d+", piece)
        parts.append(int(digits.group()) if digits else 0)
    return tuple(parts)


def _php_value(value: Any) -> PhpValue:
    """A sanitized argument as ``add_query_arg`` writes it back."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return {str(i): _php_value(v) for i, v in enumerate(value)}
    return str(value)


def _build_query(params: PhpArray, prefix: str = "") -> str:
    """PHP's ``build_query`` (``urlencode``; arrays as ``key%5B0%5D=v``)."""
    parts = []
    for key, value in params.items():
        name = f"{prefix}%5B{php_urlencode(key)}%5D" if prefix else php_urlencode(key)
        if isinstance(value, dict):
            parts.append(_build_query(value, name))
        else:
            parts.append(f"{name}={php_urlencode(value)}")
    return "&".join(p for p in parts if p)


def _only_fields(body: Any, fields: str) -> Any:
    """WordPress' ``_fields``: keep the named top-level (or dotted nested) fields."""
    wanted = [f.strip() for f in fields.split(",") if f.strip()]

    def pick(obj: Any) -> Any:
        if not isinstance(obj, dict):
            return obj
        out: dict[str, Any] = {}
        for name in wanted:
            head, _, rest = name.partition(".")
            if head not in obj:
                continue
            if rest and isinstance(obj[head], dict):
                sub = out.setdefault(head, {})
                value = _only_fields(obj[head], rest)
                if isinstance(sub, dict) and isinstance(value, dict):
                    sub.update(value)
            else:
                out[head] = obj[head]
        return out

    return [pick(o) for o in body] if isinstance(body, list) else pick(body)


# ----------------------------------------------------------------------------- handlers


def _offset(call: Call) -> int:
    per_page = int(call.args.get("per_page", 10))
    if "offset" in call.args:
        return max(0, int(call.args["offset"]))
    return (int(call.args.get("page", 1)) - 1) * per_page


def list_orders(api: Api, call: Call) -> Response:
    args = call.args
    gmt = bool(args.get("dates_are_gmt", False))
    statuses: frozenset[int] | None = None
    wanted = args.get("status", ["any"])
    if "any" not in wanted:
        statuses = frozenset(STATUS_CODE[s] for s in wanted)
    elif "trash" in wanted:
        statuses = frozenset(range(len(STATUSES)))
    query = OrderQuery(
        statuses=statuses,
        customer=args.get("customer"),
        include=tuple(args["include"]) if args.get("include") else None,
        exclude=frozenset(args.get("exclude") or ()),
        created_after=api.instant(args["after"], gmt) if "after" in args else None,
        created_before=api.instant(args["before"], gmt) if "before" in args else None,
        modified_after=(
            api.instant(args["modified_after"], gmt) if "modified_after" in args else None
        ),
        modified_before=(
            api.instant(args["modified_before"], gmt) if "modified_before" in args else None
        ),
        orderby=args.get("orderby", "date"),
        desc=args.get("order", "desc") == "desc",
    )
    per_page = int(args.get("per_page", 10))
    total, rows = api.data.select_orders(
        query, _offset(call), per_page, unstable_ties=api.unstable_ties
    )
    dp = args.get("dp")
    items = [render_order(api.data, api.site, r, dp) for r in rows]
    extra: PhpArray = {"status": {str(i): s for i, s in enumerate(wanted)}}
    if not items:
        # HPOS answers a page past the end with zero totals (see the fixtures).
        return api.paged(call, "orders", [], 0, extra)
    extra["dp"] = str(dp if dp is not None else api.data.currency.decimals)
    extra["context"] = str(args.get("context", "view"))
    return api.paged(call, "orders", items, total, extra)


def _order_row(api: Api, call: Call, name: str = "id") -> int:
    row = api.data.order_row(int(call.match[name]))
    if row is None or row in api.data.purged:
        if name == "order_id":
            raise ApiError(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
        raise ApiError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
    return row


def get_order(api: Api, call: Call) -> Response:
    row = _order_row(api, call)
    return api.ok(render_order(api.data, api.site, row, call.args.get("dp")))


def update_order(api: Api, call: Call) -> Response:
    row = api.data.order_row(int(call.match["id"]))
    if row is None or row in api.data.purged:
        raise ApiError(400, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
    changes = {
        k: call.args[k] for k in ("status", "customer_id", "customer_note") if k in call.args
    }
    try:
        api.data.modify_order(call.now, api.data.o_id[row], **changes)
    except (KeyError, ValueError) as exc:
        raise ApiError(400, "woocommerce_rest_invalid_order", str(exc)) from exc
    return api.ok(render_order(api.data, api.site, row))


def delete_order(api: Api, call: Call) -> Response:
    row = _order_row(api, call)
    before = render_order(api.data, api.site, row)
    if call.args.get("force"):
        # A permanent delete sends no webhook (WooCommerce 8.2: order.deleted is the trash).
        api.data.delete_order(call.now, api.data.o_id[row], quiet=True)
        api.data.purged.add(row)
        return api.ok(before)
    if api.data.o_status[row] == TRASH:
        raise ApiError(
            410, "woocommerce_rest_already_trashed", "The order has already been deleted."
        )
    api.data.delete_order(call.now, api.data.o_id[row])
    return api.ok(render_order(api.data, api.site, row))


def list_refunds(api: Api, call: Call) -> Response:
    row = _order_row(api, call, "order_id")
    refunds = list(api.data.refunds.get(row, ()))
    orderby = call.args.get("orderby", "date")
    refunds.sort(key=(lambda r: r.id) if orderby == "id" else (lambda r: (r.created, r.id)))
    if call.args.get("order", "desc") == "desc":
        refunds.reverse()
    if call.args.get("include"):
        refunds = [r for r in refunds if r.id in call.args["include"]]
    per_page = int(call.args.get("per_page", 10))
    offset = _offset(call)
    page = refunds[offset : offset + per_page]
    dp = call.args.get("dp")
    items = [render_refund(api.data, api.site, row, r, dp) for r in page]
    route = f"orders/{api.data.o_id[row]}/refunds"
    if not items:
        return api.paged(call, route, [], 0)
    return api.paged(call, route, items, len(refunds))


def get_refund(api: Api, call: Call) -> Response:
    row = _order_row(api, call, "order_id")
    wanted = int(call.match["id"])
    for refund in api.data.refunds.get(row, ()):
        if refund.id == wanted:
            return api.ok(render_refund(api.data, api.site, row, refund, call.args.get("dp")))
    raise ApiError(404, "woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.")


def list_customers(api: Api, call: Call) -> Response:
    args = call.args
    role = args.get("role", "customer")
    query = CustomerQuery(
        role=None if role == "all" else role,
        include=tuple(args["include"]) if args.get("include") else None,
        exclude=frozenset(args.get("exclude") or ()),
        email=args.get("email"),
        search=args.get("search"),
        orderby=args.get("orderby", "name"),
        desc=args.get("order", "asc") == "desc",
    )
    per_page = int(args.get("per_page", 10))
    total, rows = api.data.select_customers(query, _offset(call), per_page)
    items = [render_customer(api.data, api.site, r) for r in rows]
    return api.paged(call, "customers", items, total)


def _customer_row(api: Api, call: Call) -> int:
    row = api.data.customer_row(int(call.match["id"]))
    if row is None:
        raise ApiError(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
    return row


def get_customer(api: Api, call: Call) -> Response:
    return api.ok(render_customer(api.data, api.site, _customer_row(api, call)))


def delete_customer(api: Api, call: Call) -> Response:
    row = _customer_row(api, call)
    if not call.args.get("force"):
        raise ApiError(
            501, "woocommerce_rest_trash_not_supported", "Customers do not support trashing."
        )
    before = render_customer(api.data, api.site, row)
    try:
        api.data.delete_customer(call.now, api.data.c_id[row])
    except ValueError as exc:
        raise ApiError(500, "woocommerce_rest_cannot_delete", str(exc)) from exc
    return api.ok(before)


def list_coupons(api: Api, call: Call) -> Response:
    args = call.args
    per_page = int(args.get("per_page", 10))
    offset = _offset(call)
    select = dict(
        code=args.get("code"),
        include=tuple(args["include"]) if args.get("include") else None,
        exclude=frozenset(args.get("exclude") or ()),
        orderby=args.get("orderby", "date"),
        desc=args.get("order", "desc") == "desc",
    )
    total, found = api.data.select_coupons(**select, offset=offset, limit=per_page)
    items = [render_coupon(api.site, c) for c in found]
    return api.paged(call, "coupons", items, total)


def _coupon(api: Api, call: Call, status: int = 404) -> CouponRecord:
    coupon = api.data.coupons.get(int(call.match["id"]))
    if coupon is None or coupon.status == "deleted":
        raise ApiError(status, "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.")
    return coupon


def get_coupon(api: Api, call: Call) -> Response:
    return api.ok(render_coupon(api.site, _coupon(api, call)))


def create_coupon(api: Api, call: Call) -> Response:
    data = api.data
    coupon = CouponRecord(
        id=data.next_post_id,
        code="",
        amount=Decimal(0),
        discount_type="fixed_cart",
        description="",
        created=call.now,
        modified=call.now,
    )
    _apply_coupon_fields(api, coupon, call.args)
    data.next_post_id += 1
    data.coupons[coupon.id] = coupon
    data.version += 1
    location = f"{api.site.api}/coupons/{coupon.id}"
    return api.ok(render_coupon(api.site, coupon), status=201, location=location)


def update_coupon(api: Api, call: Call) -> Response:
    coupon = _coupon(api, call, status=400)
    _apply_coupon_fields(api, coupon, call.args)
    coupon.modified = call.now
    api.data.version += 1
    return api.ok(render_coupon(api.site, coupon))


def delete_coupon(api: Api, call: Call) -> Response:
    coupon = _coupon(api, call)
    if call.args.get("force"):
        before = render_coupon(api.site, coupon)
        coupon.status = "deleted"
        api.data.version += 1
        return api.ok(before)
    if coupon.status == "trash":
        raise ApiError(
            410, "woocommerce_rest_already_trashed", "The shop_coupon has already been deleted."
        )
    coupon.status = "trash"
    coupon.modified = call.now
    api.data.version += 1
    return api.ok(render_coupon(api.site, coupon))


def _apply_coupon_fields(api: Api, coupon: CouponRecord, args: dict[str, Any]) -> None:
    """``prepare_object_for_database`` of WooCommerce's coupons controller."""
    if "code" in args:
        code = re.sub(r"<[^>]*>", "", args["code"]).strip().lower()
        if not code:
            raise ApiError(
                400, "woocommerce_rest_empty_coupon_code", "The coupon code cannot be empty."
            )
        for other in api.data.coupons.values():
            if other.id != coupon.id and other.status == "publish" and other.code == code:
                raise ApiError(
                    400,
                    "woocommerce_rest_coupon_code_already_exists",
                    "The coupon code already exists",
                )
        coupon.code = code
    if "amount" in args:
        coupon.amount = _decimal(args["amount"])
    for name in ("minimum_amount", "maximum_amount"):
        if name in args:
            setattr(coupon, name, _decimal(args[name]))
    for name in ("discount_type", "description", "status"):
        if name in args:
            setattr(coupon, name, args[name])
    for name in (
        "individual_use",
        "free_shipping",
        "exclude_sale_items",
        "usage_limit",
        "usage_limit_per_user",
        "limit_usage_to_x_items",
        "product_ids",
        "excluded_product_ids",
        "product_categories",
        "excluded_product_categories",
    ):
        if name in args:
            setattr(coupon, name, args[name])
    if "date_expires" in args:
        value = args["date_expires"]
        moment = _parse_date(value, api.zone) if value else None
        coupon.expires = int(moment.timestamp()) if moment else None
    # date_expires_gmt: WooCommerce 8.2 accepts it and ignores it (recorded), and so do we.
    if "email_restrictions" in args:
        emails = [e.strip().lower() for e in args["email_restrictions"] if e.strip()]
        for email in emails:
            if not _EMAIL.match(email) and not email.startswith("*@"):
                raise ApiError(
                    400,
                    "woocommerce_rest_coupon_invalid_email_address",
                    "Invalid email address restriction",
                )
        coupon.email_restrictions = emails
    if "meta_data" in args:
        for meta in args["meta_data"]:
            if not isinstance(meta, dict) or "key" not in meta:
                continue
            existing = next(
                (
                    m
                    for m in coupon.meta_data
                    if ("id" in meta and m["id"] == meta["id"]) or m["key"] == meta["key"]
                ),
                None,
            )
            if existing is not None:
                existing["value"] = meta.get("value")
            else:
                coupon.meta_data.append(
                    {
                        "id": api.data.next_meta_id,
                        "key": str(meta["key"]),
                        "value": meta.get("value"),
                    }
                )
                api.data.next_meta_id += 1


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value.strip() or "0")
    except InvalidOperation:
        return Decimal(0)


def get_system_status(api: Api, call: Call) -> Response:
    return api.ok(system_status(api.data, api.site))


def get_settings_group(api: Api, call: Call) -> Response:
    if call.match["group_id"] != "general":
        raise ApiError(404, "rest_setting_setting_group_invalid", "Invalid setting group.")
    return api.ok(settings_general(api.data, api.site))


def get_wc_index(api: Api, call: Call) -> Response:
    routes: dict[str, Any] = {}
    for route in api.routes:
        if route.namespace != "wc/v3":
            continue
        path = "/" + route.pattern.pattern.lstrip("/")
        routes[path] = {
            "namespace": "wc/v3",
            "methods": list(route.endpoints),
            "endpoints": [
                {
                    "methods": [m],
                    "args": {name: {"required": name in e.required} for name in e.args},
                }
                for m, e in route.endpoints.items()
            ],
        }
    body = {
        "namespace": "wc/v3",
        "routes": routes,
        "_links": {"up": [{"href": f"{api.site.url}/wp-json/"}]},
    }
    return Response(200, wp_json(body), api.wp_headers(authenticated=call.key is not None))


def get_root_index(api: Api, call: Call) -> Response:
    """WordPress' site index: the site's name, URL and timezone (``gmt_offset``,
    ``timezone_string``), which WooCommerce's own API does not tell."""
    body = {
        "name": SITE_NAME,
        "description": "A WooCommerce store made up by Bazgasht for tests and demos",
        "url": api.site.url,
        "home": api.site.url,
        "gmt_offset": gmt_offset(api.site, call.now),
        "timezone_string": api.site.timezone,
        "namespaces": ["oembed/1.0", "wc/v3", "wp/v2", "wp-site-health/v1"],
        "authentication": {},
        "routes": {},
        "site_logo": 0,
        "site_icon": 0,
        "site_icon_url": "",
        "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
    }
    return Response(200, wp_json(body), api.wp_headers(authenticated=False, allow="GET"))


def not_implemented(api: Api, call: Call) -> Response:
    raise ApiError(
        501,
        "sample_store_not_implemented",
        f"The sample store does not implement {call.method} on this route.",
    )


def _routes() -> list[Route]:
    from samplestore import _webhooks as hooks  # it imports this module

    def route(pattern: str, namespace: str = "wc/v3", **endpoints: Endpoint) -> Route:
        return Route(re.compile(pattern), endpoints, namespace)

    batch = Endpoint(hooks.batch_customers, {}, "edit")
    webhook_write = Endpoint(hooks.update_webhook, WEBHOOK_WRITE_ARGS, "edit")

    single = {**_SINGLE, "dp": Arg("integer")}
    return [
        route("/", "", GET=Endpoint(get_root_index, {}, None)),
        route("/wc/v3", GET=Endpoint(get_wc_index, _SINGLE, None)),
        route(
            "/wc/v3/orders",
            GET=Endpoint(list_orders, ORDER_ARGS, "list"),
            POST=Endpoint(not_implemented, {}, "create"),
        ),
        route(
            r"/wc/v3/orders/(?P<id>[\d]+)",
            GET=Endpoint(get_order, single, "view"),
            POST=Endpoint(update_order, ORDER_WRITE_ARGS, "edit"),
            PUT=Endpoint(update_order, ORDER_WRITE_ARGS, "edit"),
            PATCH=Endpoint(update_order, ORDER_WRITE_ARGS, "edit"),
            DELETE=Endpoint(delete_order, _FORCE, "delete"),
        ),
        route(
            r"/wc/v3/orders/(?P<order_id>[\d]+)/refunds",
            GET=Endpoint(list_refunds, REFUND_ARGS, "list"),
            POST=Endpoint(not_implemented, {}, "create"),
        ),
        route(
            r"/wc/v3/orders/(?P<order_id>[\d]+)/refunds/(?P<id>[\d]+)",
            GET=Endpoint(get_refund, single, "view"),
            DELETE=Endpoint(not_implemented, _FORCE, "delete"),
        ),
        route(
            "/wc/v3/customers",
            GET=Endpoint(list_customers, CUSTOMER_ARGS, "list"),
            POST=Endpoint(not_implemented, {}, "create"),
        ),
        route("/wc/v3/customers/batch", POST=batch, PUT=batch, PATCH=batch),
        route(
            r"/wc/v3/customers/(?P<id>[\d]+)",
            GET=Endpoint(get_customer, _SINGLE, "view"),
            POST=Endpoint(not_implemented, {}, "edit"),
            PUT=Endpoint(not_implemented, {}, "edit"),
            PATCH=Endpoint(not_implemented, {}, "edit"),
            DELETE=Endpoint(delete_customer, _FORCE, "delete"),
        ),
        route(
            "/wc/v3/coupons",
            GET=Endpoint(list_coupons, COUPON_LIST_ARGS, "list"),
            POST=Endpoint(create_coupon, COUPON_WRITE_ARGS, "create", ("code",)),
        ),
        route(
            r"/wc/v3/coupons/(?P<id>[\d]+)",
            GET=Endpoint(get_coupon, _SINGLE, "view"),
            POST=Endpoint(update_coupon, COUPON_WRITE_ARGS, "edit"),
            PUT=Endpoint(update_coupon, COUPON_WRITE_ARGS, "edit"),
            PATCH=Endpoint(update_coupon, COUPON_WRITE_ARGS, "edit"),
            DELETE=Endpoint(delete_coupon, _FORCE, "delete"),
        ),
        route(
            "/wc/v3/webhooks",
            GET=Endpoint(hooks.list_webhooks, WEBHOOK_LIST_ARGS, "list"),
            POST=Endpoint(
                hooks.create_webhook, WEBHOOK_WRITE_ARGS, "create", ("topic", "delivery_url")
            ),
        ),
        route(
            r"/wc/v3/webhooks/(?P<id>[\d]+)",
            GET=Endpoint(hooks.get_webhook, _SINGLE, "view"),
            POST=webhook_write,
            PUT=webhook_write,
            PATCH=webhook_write,
            DELETE=Endpoint(hooks.delete_webhook, _FORCE, "delete"),
        ),
        route("/wc/v3/system_status", GET=Endpoint(get_system_status, _SINGLE, "list")),
        route(
            r"/wc/v3/settings/(?P<group_id>[\w-]+)", GET=Endpoint(get_settings_group, {}, "list")
        ),
    ]
