"""One Powertools Router per area. Each module has a `router()` factory: a Router is made per app,
never shared as a module-level object (Powertools keeps request state on routers)."""
