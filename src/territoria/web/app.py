"""The web product: a French page for citizens and a JSON API (OpenAPI at /docs)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from territoria.cli.query import answer_json
from territoria.errors import NotFound, TerritoriaError
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access

HERE = Path(__file__).parent


def create_app(settings: Settings) -> FastAPI:
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.retriever.refresh()
        yield
        runtime.close()

    app = FastAPI(
        title="Territoria",
        description="Assistant souverain et vérifiable pour les collectivités territoriales.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(TerritoriaError)
    async def problem(request: Request, exc: TerritoriaError) -> JSONResponse:
        return JSONResponse(
            {"type": "about:blank", "title": type(exc).__name__, "status": exc.status,
             "detail": exc.message},
            status_code=exc.status,
            media_type="application/problem+json",
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, q: str = "") -> HTMLResponse:
        answer = runtime.assistant.ask(q, access=Access()) if q.strip() else None
        return templates.TemplateResponse(
            request,
            "index.html",
            {"settings": settings, "q": q, "answer": answer},
        )

    @app.get("/api/ask", summary="Poser une question")
    def api_ask(
        q: str = Query(..., min_length=1, max_length=2000, description="La question."),
        mode: Literal["extractive", "generative"] = "extractive",
    ) -> dict[str, object]:
        return answer_json(runtime.assistant.ask(q, access=Access(), mode=mode))

    @app.get("/api/search", summary="Rechercher des passages")
    def api_search(
        q: str = Query(..., min_length=1, max_length=2000), k: int = Query(10, ge=1, le=100)
    ) -> dict[str, object]:
        hits = runtime.retriever.search(q, k=k, access=Access())
        return {
            "hits": [
                {
                    "doc_id": h.passage.doc_id,
                    "passage_id": h.passage.passage_id,
                    "title": h.passage.title,
                    "score": h.score,
                    "text": h.passage.text,
                }
                for h in hits
            ]
        }

    def public_document(doc_id: str) -> tuple[object, list[object]]:
        doc = runtime.store.get_document(doc_id)
        if doc is None or doc.visibility != "public":
            raise NotFound("Document introuvable.")
        passages = [p for p in runtime.store.iter_passages() if p.doc_id == doc_id]
        return doc, passages

    @app.get("/documents/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(request: Request, doc_id: str, p: str = "") -> HTMLResponse:
        doc, passages = public_document(doc_id)
        return templates.TemplateResponse(
            request,
            "document.html",
            {"settings": settings, "doc": doc, "passages": passages, "highlight": p},
        )

    @app.get("/documents/{doc_id}/original", include_in_schema=False)
    def original(doc_id: str) -> FileResponse:
        doc, _ = public_document(doc_id)
        path = Path(getattr(doc, "source", ""))
        if not path.is_file():
            raise NotFound("Fichier d'origine indisponible.")
        return FileResponse(path, filename=path.name)

    return app
