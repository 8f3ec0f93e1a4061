"""What the web app's routes share: the runtime, its readiness, accounts, feedback, limits and
templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from territoria.accounts import Accounts
from territoria.feedback import FeedbackStore
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.web.limits import RateLimiter
from territoria.web.readiness import Readiness

HERE = Path(__file__).parent


@dataclass
class WebState:
    settings: Settings
    runtime: Runtime
    accounts: Accounts
    feedback: FeedbackStore
    limiter: RateLimiter
    templates: Jinja2Templates
    readiness: Readiness

    def close(self) -> None:
        self.feedback.close()
        self.accounts.close()
        self.runtime.close()


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


StateDep = Annotated[WebState, Depends(web_state)]
