"""The ingest API's routers, in the order their routes appear (and get their operation ids) in the OpenAPI document."""

from __future__ import annotations

from fastapi.routing import APIRoute

from services.ingest.routes import challenges, companies, operations

ROUTERS = [challenges.router, companies.router, operations.router]


def allowed_methods(path: str) -> set[str]:
    """Every method some route of the API accepts at this path, for a 405's Allow header.

    Read from the routers themselves: how an app holds included routers differs between FastAPI versions.
    """
    return {
        method
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path_regex.match(path)
        for method in route.methods or ()
    }


__all__ = ["ROUTERS", "allowed_methods"]
