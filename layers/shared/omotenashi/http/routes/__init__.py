"""One Powertools Router per area. Each module has a `router()` factory: a Router is made per app,
never shared as a module-level object (Powertools keeps request state on routers).

AREAS maps each path prefix to the modules of its areas. The resolver includes an area's Router
when the first request for it arrives (http/resolver.include_areas), so a cold start loads the request
models of the area it serves, not of every area (each area's pydantic models cost milliseconds to
build); the OpenAPI document and Swagger UI include them all.
"""

AREAS: dict[str, tuple[str, ...]] = {
    "/v1/inquiries": ("omotenashi.http.routes.inquiries",),
    "/v1/events/": ("omotenashi.http.routes.events",),
    "/v1/carts/": ("omotenashi.http.routes.commerce",),
    "/v1/orders/": ("omotenashi.http.routes.commerce",),
    "/v1/customers/": ("omotenashi.http.routes.customers", "omotenashi.http.routes.loyalty"),
    "/v1/unsubscribe": ("omotenashi.http.routes.unsubscribe",),
    "/v1/reports/": ("omotenashi.http.routes.reports",),
}
