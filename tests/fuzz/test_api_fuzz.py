"""Property-based fuzzing of the whole API with schemathesis, every check enabled.

Two passes on a service of its own (see conftest.py): every operation alone with
generated valid and invalid input, then stateful sequences that follow the links
schemathesis infers from the OpenAPI (a created attempt's id into its submit, and so on).
The budget is bounded so the suite stays within CI's time; the pass fails on any server
error and on any response the OpenAPI does not describe.
"""

import contextlib
import os
import traceback
import uuid
import zlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from schemathesis import checks
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode

from syllabus.identity.security import create_access_token
from syllabus.main import create_app
from tests.fuzz.conftest import FuzzTarget
from tests.identity.helpers import PASSWORD
from tests.openapi import openapi_document

# The CI budget; raise it for a deeper local run, e.g. SYLLABUS_FUZZ_SCALE=10.
SCALE = int(os.environ.get("SYLLABUS_FUZZ_SCALE", "1"))
EXAMPLES_PER_OPERATION = 25 * SCALE
STATEFUL_SCENARIOS = 40 * SCALE
STATEFUL_STEPS = 12
# The operation tests are derandomized (one walk per budget, the same in every run); a soak
# takes other walks, each reproducible, with e.g. SYLLABUS_FUZZ_SEED=7. The stateful pass
# draws a new seed every run (pytest's --hypothesis-seed fixes it).
SEED = os.environ.get("SYLLABUS_FUZZ_SEED")
# Hypothesis stops a state machine as ``Flaky`` when the stores (which keep what earlier
# scenarios wrote) make a rule available where it was not before; it is started again
# until the budget of scenarios has run, as schemathesis' own runner does.
MAX_STATEFUL_RESTARTS = 20

Case = schemathesis.Case[Any]


def _token(target: FuzzTarget, *, user_id: Any, role: str) -> str:
    return create_access_token(
        user_id=user_id,
        role=role,
        secret=target.settings.jwt_secret.get_secret_value(),
        lifetime=timedelta(hours=1),
    )


@dataclass
class Callers:
    """Whose token the generated cases carry: admin routes the admin's, every other
    route the current student's (a new one per operation test and per scenario)."""

    admin: str
    student: str = ""

    def token_for(self, case: Case) -> str:
        return self.admin if case.path.startswith("/api/v1/admin") else self.student


@dataclass(frozen=True)
class Fuzzed:
    api: schemathesis.BaseSchema
    callers: Callers


@pytest.fixture(scope="session")
def fuzzed(fuzz_target: FuzzTarget) -> Fuzzed:
    """The app under schemathesis, with the callers registered as its auth provider, so
    every case is generated with its credentials. (schemathesis' ``ignored_auth`` finds
    no credential parameters in an OAuth2 password-flow scheme and checks nothing here;
    tests/test_access_matrix.py refuses every secured route without credentials.)"""
    api = schemathesis.openapi.from_asgi("/openapi.json", create_app(fuzz_target.settings))
    callers = Callers(admin=_token(fuzz_target, user_id=fuzz_target.admin_id, role="admin"))

    @api.auth(refresh_interval=None)
    class Bearer:
        def get(self, case: Case, context: Any) -> str:
            return callers.token_for(case)

        def set(self, case: Case, data: str, context: Any) -> None:
            case.headers["Authorization"] = f"Bearer {data}"

    return Fuzzed(api=api, callers=callers)


def sign_up(fuzzed: Fuzzed, target: FuzzTarget) -> None:
    """A new student through the real sign-up route becomes the current caller, with a
    token minted for them (the fuzzer's own failed logins would soon throttle the login
    route for this address)."""
    email = f"fuzz-{uuid.uuid4().hex[:12]}@example.org"
    case = fuzzed.api["/api/v1/auth/register"]["POST"].Case(
        body={"email": email, "password": PASSWORD, "name": "Fuzz"}
    )
    response = case.call()
    assert response.status_code == 201, response.text
    user_id = uuid.UUID(response.json()["id"])
    fuzzed.callers.student = _token(target, user_id=user_id, role="student")


# Rules no JSON Schema states, so a schema-valid request may still break them: a 422
# naming only these fields, or only NUL characters (refused in every string and in the
# URL, since PostgreSQL cannot store U+0000), is a documented refusal. Anything else a
# schema-valid request is refused for means the OpenAPI is missing a constraint.
UNSTATABLE_RULES = {
    "cursor": "opaque: only a cursor this endpoint produced is valid",
    "email": "must be deliverable: special-use domains (.test, .invalid, .localhost) refused",
    "time_zone": "an IANA zone name the server's time-zone database knows",
    "language": "a code the ISO 639 registry knows (kit/standards.py, by pycountry)",
    "currency": "a code the ISO 4217 registry knows (kit/standards.py, by pycountry)",
    "provider": "a payment provider this deployment offers (a setting; the schema lists all)",
    "return_url": "a URL on an origin this deployment allows (SYLLABUS_PAYMENT_RETURN_ORIGINS)",
    "time_spent.seconds": "a session's total may run ahead of the server's clock by 300 s at most",
    "sort": "sort=relevance needs q: one parameter's allowed values depend on another's",
    "lesson_id": "a tutor session's lesson must be one of its course_id's lessons, which is data",
    "files": "homework files: how many, how large and which media types are settings "
    "(SYLLABUS_SUBMISSION_*), and the content must be what its media type says (413, 415)",
}
NUL_CHARACTER = "nul_character"


def _refuses_only_unstatable(response: schemathesis.Response) -> bool:
    if response.status_code not in (400, 413, 415, 422):
        return False
    errors = response.json().get("errors") or []
    return bool(errors) and all(
        error["field"].split("[")[0] in UNSTATABLE_RULES or error["type"] == NUL_CHARACTER
        for error in errors
    )


def positive_data_acceptance(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """schemathesis' own check, except for the rules in :data:`UNSTATABLE_RULES` and
    402 (a paid course: valid input, refused until it is bought)."""
    if response.status_code == 402 or _refuses_only_unstatable(response):
        return None
    verdict: bool | None = checks.positive_data_acceptance(ctx, response, case)
    return verdict


CHECKS: dict[str, Any] = {
    "excluded_checks": [checks.positive_data_acceptance],
    "additional_checks": [positive_data_acceptance],
}


def aim(case: Case, real_ids: dict[str, list[str]]) -> None:
    """Point about half of the valid cases at content that exists (random ids only
    ever reach the 404 branch), chosen from the generated value so a run stays
    reproducible. Values that already are real ids (from a followed link) stay."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    for values in (case.path_parameters, case.body):
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            choices = real_ids.get(name)
            if choices and value not in choices:
                digest = zlib.crc32(repr(value).encode())
                if digest % 2 == 0:
                    values[name] = choices[digest // 2 % len(choices)]


def _operations() -> list[Any]:
    """Every operation in the OpenAPI, with each generation mode, read at collection time (no
    stores needed). Invalid input needs something to break: an operation without
    parameters or body is fuzzed with valid input only."""
    paths = openapi_document()["paths"]
    return [
        pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode}")
        for path, operations in paths.items()
        for method, operation in operations.items()
        for mode in GenerationMode
        if mode is GenerationMode.POSITIVE
        or operation.get("parameters")
        or operation.get("requestBody")
    ]


SETTINGS = hypothesis.settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
    # Report the first failure as found: shrinking replays calls against stores that
    # the first run already changed, which Hypothesis rightly calls flaky.
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


@pytest.mark.parametrize(("method", "path", "mode"), _operations())
def test_every_operation(
    method: str,
    path: str,
    mode: GenerationMode,
    fuzzed: Fuzzed,
    fuzz_target: FuzzTarget,
) -> None:
    """Valid input must be accepted or refused as documented; invalid input refused
    with a documented 4xx; never a 5xx (schemathesis' own checks, all of them)."""
    operation = fuzzed.api[path][method]
    sign_up(fuzzed, fuzz_target)

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(SETTINGS, max_examples=EXAMPLES_PER_OPERATION)
    def fuzz(case: Case) -> None:
        aim(case, fuzz_target.real_ids)
        case.call_and_validate(**CHECKS)

    if SEED is not None:
        fuzz = hypothesis.seed(int(SEED))(fuzz)
    fuzz()


def test_stateful_sequences(fuzzed: Fuzzed, fuzz_target: FuzzTarget) -> None:
    """Sequences along the links schemathesis infers (an attempt started, then answered,
    submitted and read; an enrollment made, then cancelled; ...), each as a new student.

    Failures are recorded the moment a check fails: the stores keep what earlier
    scenarios wrote, so Hypothesis' replay of a failing sequence may take another path
    and end as ``Flaky`` instead of re-raising it (schemathesis' own runner does the same).
    """
    failures: list[str] = []
    scenarios = 0

    class Workflow(fuzzed.api.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            sign_up(fuzzed, fuzz_target)

        def teardown(self) -> None:
            nonlocal scenarios
            scenarios += 1

        def step(self, input: Any) -> Any:
            try:
                return super().step(input)
            except FailureGroup:
                raise
            except Exception as error:
                failures.append(
                    f"{input.case.operation.label}: {error!r}\n{traceback.format_exc()}"
                )
                raise

        def before_call(self, case: Case) -> None:
            aim(case, fuzz_target.real_ids)

        def validate_response(
            self, response: schemathesis.Response, case: Case, **kwargs: Any
        ) -> None:
            try:
                case.validate_response(response, **CHECKS)
            except FailureGroup as group:
                failures.append(f"{group}\n{case.as_curl_command()}")
                raise

    # Not derandomized: a restart after ``Flaky`` must not walk into the same spot.
    settings = hypothesis.settings(
        SETTINGS,
        derandomize=False,
        max_examples=STATEFUL_SCENARIOS,
        stateful_step_count=STATEFUL_STEPS,
    )
    for _ in range(MAX_STATEFUL_RESTARTS):
        # A check failure is in ``failures``; Flaky alone means a restart.
        with contextlib.suppress(FailureGroup, hypothesis.errors.Flaky):
            Workflow.run(settings=settings)
        if failures or scenarios >= STATEFUL_SCENARIOS:
            break
    assert not failures, "\n\n".join(failures)
    assert scenarios >= STATEFUL_SCENARIOS, f"only {scenarios} scenarios ran"
