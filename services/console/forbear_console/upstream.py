"""Where the four services' APIs are, and one async HTTP client to reach them."""

from __future__ import annotations

from forbear_shared.devstack import API_PORTS, SERVICES

#: request headers the proxy passes on; everything else (cookies, hop-by-hop) stays behind
#: (the bearer token is the session's, set by the proxy, never the browser's)
FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "idempotency-key")
#: response headers the proxy passes back
FORWARDED_RESPONSE_HEADERS = (
    "content-type", "content-disposition", "location",
    "x-content-type-options", "x-content-sha256", "x-document-sha256", "idempotency-replayed",
)


def service_base_urls(port_offset: int, host: str = "127.0.0.1") -> dict[str, str]:
    """Each service's API: ``host`` with ``{service}`` standing for the service's name (e.g.
    ``{service}-api``, the name of its container or Kubernetes Service), on its port."""
    return {service: f"http://{host.format(service=service)}:{API_PORTS[service] + port_offset}"
            for service in SERVICES}
