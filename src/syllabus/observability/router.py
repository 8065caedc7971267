"""``GET /metrics``: the app's registry in Prometheus' text format. Outside ``/api/v1``
and the OpenAPI schema: it is for the scraper, not for clients."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from syllabus.observability.metrics import Metrics

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def scrape(request: Request) -> Response:
    # Async: the pool is read on the event loop's thread, the one that changes it.
    metrics: Metrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
