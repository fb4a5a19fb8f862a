"""The workflows on the local stack: the same ASL definitions and handlers as in AWS.

* moto's Step Functions executes the definitions (``execute_state_machine``). Its Task states
  call services through boto3; that client is pointed at the stack's own AWS endpoint with the
  service credential (moto has no port of its own, ADR 001) and its requests are handed to the
  endpoint's app in-process (``backend/local/inprocess.py``); the endpoint answers Lambda
  ``Invoke`` by calling our handlers in-process (:class:`LambdaFunctions`): moto runs Lambda
  code only in Docker.
* Our S3 reports object creation; for the upload bucket an EventBridge-shaped "Object Created"
  event starts the upload workflow, as the EventBridge rule does in AWS.
* The notifications topic is moto's SNS; an SQS queue subscribed to it stands in for the Lambda
  subscription, and a poller hands each message to the inbox handler in the SNS event shape.
* The metadata table's stream is moto's; a poller drains (and trims) it in-process and hands
  the records to the analytics handler in the DynamoDB-stream event shape.
* Watermarked share links point at an alias "bucket" that :class:`LocalObjectLambda` serves
  by running the S3 Object Lambda handler with the event AWS would send.

See docs/adr/003-local-workflows.md.
"""

from __future__ import annotations

import importlib
import json
import logging
import queue
import secrets
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import boto3
from botocore.config import Config

from backend import naming
from backend.local.cognito import ACCOUNT_ID
from backend.local.foreground import Clock, ForegroundLoad
from backend.local.inprocess import InProcess
from backend.local.moto_dynamodb import DYNAMODB_LOCK
from backend.local.s3.models import ObjectCreatedEvent
from backend.workflows import definitions
from backend.workflows.definitions import LambdaPlaceholder, Resource, StateMachineSpec

log = logging.getLogger("filevault.local.workflows")
Handler = Callable[[Mapping[str, Any], Any], Any]
StartResponse = Callable[..., Any]
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/filevault-workflows"
_INVOKE_PREFIX = "/2015-03-31/functions/"


def import_handler(path: str) -> Handler:
    module, _, name = path.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module), name)
    return handler


def fast_timing(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with every retry 1 s apart (the ASL minimum), for tests and demos."""
    for state in definition.get("States", {}).values():
        for retrier in state.get("Retry", []):
            if retrier.get("MaxAttempts", 3) > 0:
                retrier["IntervalSeconds"] = 1
                retrier["BackoffRate"] = 1.0
                retrier.pop("MaxDelaySeconds", None)
    return definition


# ----- Lambda, in-process -----
class LambdaFunctions:
    """Our Lambda functions by name or ARN; answers the Lambda ``Invoke`` API."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._handlers: dict[str, Handler] = {}

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"

    def register(self, name: str, handler: Handler) -> str:
        arn = self.arn(name)
        self._handlers[name] = self._handlers[arn] = handler
        return arn

    def invoke(self, function: str, payload: bytes) -> tuple[int, dict[str, str], bytes]:
        function = function.split(":$LATEST")[0]
        handler = self._handlers.get(function)
        if handler is None:
            body = {"Type": "User", "message": f"Function not found: {function}"}
            return 404, {"x-amzn-ErrorType": "ResourceNotFoundException"}, json.dumps(body).encode()
        try:
            event = json.loads(payload or b"{}")
            result = handler(event, None)
        except Exception as exc:  # noqa: BLE001 - the Lambda runtime reports any error
            log.info("function %s raised %s: %s", function, type(exc).__name__, exc)
            error = {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "stackTrace": traceback.format_tb(exc.__traceback__)[-5:],
            }
            return 200, {"X-Amz-Function-Error": "Unhandled"}, json.dumps(error).encode()
        return 200, {}, json.dumps(result).encode()

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse, body: bytes
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if environ["REQUEST_METHOD"] != "POST" or not (
            path.startswith(_INVOKE_PREFIX) and path.endswith("/invocations")
        ):
            return _respond(start_response, 400, {}, b'{"message":"only Invoke is served"}')
        function = unquote(path[len(_INVOKE_PREFIX) : -len("/invocations")])
        status, headers, out = self.invoke(function, body)
        return _respond(start_response, status, headers, out)


def _respond(
    start_response: StartResponse, status: int, headers: Mapping[str, str], body: bytes
) -> list[bytes]:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", headers.get("Content-Type", "application/json")),
            ("Content-Length", str(len(body))),
            *[(k, v) for k, v in headers.items() if k != "Content-Type"],
        ],
    )
    return [body]


def install_moto_stepfunctions(
    endpoint_url: str, access_key: str, secret_key: str, transport: InProcess | None = None
) -> None:
    """Make moto execute state machines, its Task states calling our endpoint, signed.

    With ``transport``, those calls are answered in-process by the endpoint's app.
    """
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: F401
        lambda_eval_utils,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: F401
        state_task_service_factory,
    )
    from moto.stepfunctions.parser.asl.utils import boto_client

    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    original = getattr(boto_client, "_filevault_original", boto_client.boto_client_for)

    clients: dict[tuple[str, str], Any] = {}
    clients_lock = threading.Lock()

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto asks for a client at every Task state; building one costs more than the call
        # (boto3 clients are thread-safe, so one per service serves every execution).
        with clients_lock:
            client = clients.get((region, service))
            if client is None:
                client = clients[(region, service)] = boto3.client(  # type: ignore[call-overload]
                    service,
                    region_name=region,
                    endpoint_url=endpoint_url,
                    aws_access_key_id=access_key,
                    aws_secret_access_key=secret_key,
                    config=Config(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        connect_timeout=60,
                        read_timeout=900,
                        s3={"addressing_style": "path"},
                        max_pool_connections=32,
                    ),
                )
                if transport is not None:
                    transport.attach(client)
            return client

    _cache_asl_parsing()
    boto_client._filevault_original = original  # type: ignore[attr-defined]
    boto_client.boto_client_for = client_for
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("moto.stepfunctions.parser") and (
            getattr(module, "boto_client_for", None) is original
        ):
            module.boto_client_for = client_for  # type: ignore[attr-defined]


def _cache_asl_parsing() -> None:
    """Parse each state machine definition once, not at every execution.

    moto lexes and parses the ASL text with ANTLR for every execution (~50-100 ms of CPU for
    our upload workflow), then builds the evaluation components from the tree (another
    ~20-40 ms). Both depend only on the text. The parse tree is always cached. The components
    are shared between executions only for definitions made of states whose components keep
    nothing of an execution (see :func:`_shareable`): every evaluation keeps its state in
    its own ``Environment`` (stack, heap, context); the one lazily set attribute, the heap
    key, is set before the program is shared. Other definitions (Map, Parallel, callback
    or ``.sync`` tasks, JSONata) get fresh components at each execution, as moto does.
    """
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    if getattr(AmazonStateLanguageParser, "_filevault_cached", False):
        return
    parse = AmazonStateLanguageParser.parse
    trees: dict[str, Any] = {}
    programs: dict[str, Any] = {}
    lock = threading.Lock()

    def cached(definition: str) -> tuple[Any, Any]:
        with lock:
            tree, program = trees.get(definition), programs.get(definition)
        if program is not None:
            return program, tree
        if tree is None:
            _, tree = parse(definition)  # raises on a syntax error, as before
        program = Preprocessor().visit(tree)
        if _shareable(definition):
            _set_heap_keys(program)
            with lock:
                program = programs.setdefault(definition, program)
        with lock:
            trees[definition] = tree
        return program, tree

    AmazonStateLanguageParser.parse = staticmethod(cached)  # type: ignore[method-assign]
    AmazonStateLanguageParser._filevault_cached = True  # type: ignore[attr-defined]


# States whose moto components hold no per-execution state (checked against moto 5.2: only
# the Map and Parallel workers, and the lazily set heap key, assign to themselves while
# evaluating).
_SHAREABLE_STATES = frozenset({"Pass", "Task", "Choice", "Wait", "Succeed", "Fail"})


def _shareable(definition: str) -> bool:
    try:
        document = json.loads(definition)
    except ValueError:
        return False
    if not isinstance(document, dict) or document.get("QueryLanguage", "JSONPath") != "JSONPath":
        return False
    states = document.get("States")
    if not isinstance(states, dict):
        return False
    for state in states.values():
        if not isinstance(state, dict) or state.get("Type") not in _SHAREABLE_STATES:
            return False
        if state.get("QueryLanguage", "JSONPath") != "JSONPath":
            return False
        resource = str(state.get("Resource", ""))
        if ".waitForTaskToken" in resource or ".sync" in resource:
            return False
    return True


def _set_heap_keys(program: Any) -> None:
    """Set every component's lazily created heap key now, before threads share them."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending: list[Any] = [program]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, EvalComponent):
            _ = node.heap_key
        if isinstance(node, Component):
            pending.extend(vars(node).values())
        elif isinstance(node, list | tuple | set | frozenset):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend(node.values())


# ----- S3 Object Lambda, locally -----
@dataclass
class _Answer:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    done: bool = False


class LocalObjectLambda:
    """Serves ``/<alias>/<key>`` by running the Object Lambda handler over the source bucket,
    and accepts the handler's ``WriteGetObjectResponse``."""

    def __init__(self, alias: str, source_bucket: str, s3: Any, handler: Handler) -> None:
        self.alias = alias
        self._source = source_bucket
        self._s3 = s3
        self._handler = handler
        self._answers: dict[str, _Answer] = {}
        self._lock = threading.Lock()

    def maybe_handle(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes] | None:
        path = str(environ.get("PATH_INFO", ""))
        method = environ["REQUEST_METHOD"]
        if path == "/WriteGetObjectResponse" and method == "POST":
            return self._write(environ, start_response)
        if not path.startswith(f"/{self.alias}/"):
            return None
        if method not in ("GET", "HEAD"):
            return _respond(start_response, 405, {}, b"")
        return self._get(environ, start_response, unquote(path[len(self.alias) + 2 :]))

    def _get(
        self, environ: dict[str, Any], start_response: StartResponse, key: str
    ) -> Iterable[bytes]:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._answers[token] = _Answer()
        input_url = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._source, "Key": key}, ExpiresIn=60
        )
        query = str(environ.get("QUERY_STRING", ""))
        event = {
            "xAmzRequestId": secrets.token_hex(8),
            "getObjectContext": {
                "inputS3Url": input_url,
                "outputRoute": "io-local",
                "outputToken": token,
            },
            "configuration": {
                "accessPointArn": f"arn:aws:s3-object-lambda:local:{ACCOUNT_ID}:accesspoint/x",
                "supportingAccessPointArn": f"arn:aws:s3:local:{ACCOUNT_ID}:accesspoint/x",
                "payload": "",
            },
            "userRequest": {"url": f"/{self.alias}/{key}?{query}", "headers": {}},
            "protocolVersion": "1.00",
        }
        try:
            self._handler(event, None)
        except Exception:
            log.exception("object lambda failed for %s", key)
        with self._lock:
            answer = self._answers.pop(token)
        if not answer.done:
            return _respond(start_response, 500, {}, b"the object lambda gave no response")
        headers = dict(answer.headers)
        disposition = parse_qs(query).get("response-content-disposition")
        if disposition and answer.status == 200:
            headers["Content-Disposition"] = disposition[0]
        body = b"" if environ["REQUEST_METHOD"] == "HEAD" else answer.body
        return _respond(start_response, answer.status, headers, body)

    def _write(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        token = str(environ.get("HTTP_X_AMZ_REQUEST_TOKEN", ""))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        with self._lock:
            answer = self._answers.get(token)
            if answer is None:
                return _respond(start_response, 400, {}, b"unknown request token")
            answer.status = int(environ.get("HTTP_X_AMZ_FWD_STATUS") or 200)
            content_type = environ.get("HTTP_X_AMZ_FWD_HEADER_CONTENT_TYPE")
            if content_type:
                answer.headers["Content-Type"] = str(content_type)
            answer.body = body
            answer.done = True
        return _respond(start_response, 200, {}, b"")


# ----- the event plumbing -----
# The API that created the object, as S3's EventBridge events name it.
_REASONS = {
    "ObjectCreated:Put": "PutObject",
    "ObjectCreated:Copy": "CopyObject",
    "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
}


def s3_event(created: ObjectCreatedEvent, region: str) -> dict[str, Any]:
    """What EventBridge delivers for an S3 "Object Created" event."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT_ID,
        "time": created.event_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:s3:::{created.bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": created.bucket},
            "object": {
                "key": created.key,
                "size": created.size,
                "etag": created.etag,
                "sequencer": created.sequencer,
            },
            "request-id": secrets.token_hex(8).upper(),
            "requester": ACCOUNT_ID,
            "reason": _REASONS.get(created.event_name, created.event_name),
        },
    }


@dataclass(frozen=True)
class WorkflowNames:
    prefix: str
    region: str
    table: str
    upload_bucket: str
    processed_bucket: str
    analytics_bucket: str

    @property
    def topic_name(self) -> str:
        return f"{self.prefix}-notifications"

    @property
    def topic_arn(self) -> str:
        return f"arn:aws:sns:{self.region}:{ACCOUNT_ID}:{self.topic_name}"

    @property
    def inbox_queue(self) -> str:
        return f"{self.prefix}-inbox"

    @property
    def watermark_alias(self) -> str:
        return f"{self.prefix}-watermark"

    def state_machine_name(self, spec: StateMachineSpec) -> str:
        return f"{self.prefix}-{spec.name}"

    def state_machine_arn(self, spec: StateMachineSpec) -> str:
        return (
            f"arn:aws:states:{self.region}:{ACCOUNT_ID}:stateMachine:"
            f"{self.state_machine_name(spec)}"
        )

    def function_name(self, placeholder: LambdaPlaceholder) -> str:
        return f"{self.prefix}-{placeholder.name.removesuffix('FunctionArn')}"

    def resource(self, resource: Resource, attribute: str) -> str:
        values = {
            Resource.METADATA_TABLE: self.table,
            Resource.UPLOAD_BUCKET: self.upload_bucket,
            Resource.PROCESSED_BUCKET: self.processed_bucket,
            Resource.ANALYTICS_BUCKET: self.analytics_bucket,
            Resource.NOTIFICATIONS_TOPIC: self.topic_arn,
            Resource.SHARE_LIFECYCLE_STATE_MACHINE: self.state_machine_arn(
                definitions.SHARE_LIFECYCLE
            ),
        }
        value = values[resource]
        if attribute == "arn" and resource in (
            Resource.UPLOAD_BUCKET,
            Resource.PROCESSED_BUCKET,
            Resource.ANALYTICS_BUCKET,
        ):
            return f"arn:aws:s3:::{value}"
        return value


@dataclass(frozen=True)
class Pacing:
    """When the upload workflow starts for an object that landed (see :class:`StartPacer`)."""

    # EventBridge delivers S3 events after a delay too; meanwhile the client completes its
    # upload, so the execution's first Validate finds the file recorded instead of retrying.
    grace_s: float = 0.5
    # Foreground request-seconds per second above which background work waits.
    yield_above: float = 0.25
    # Past this age an event starts however busy the stack is, though only a trickle of them
    # (``busy_starts_per_s``): under a long upload, starting each as it comes of age made
    # the workflows take the whole stack again, slowing the upload into more overdue events.
    max_defer_s: float = 15.0
    busy_starts_per_s: float = 2.0
    # A backlog is started gradually, so a request arriving meanwhile does not find
    # hundreds of executions competing with it.
    starts_per_s: float = 20.0


class StartPacer:
    """Holds "Object Created" events until their workflow may start: after the grace period,
    while the user's requests leave the stack mostly idle, at most ``starts_per_s``; while
    they keep it busy, only overdue events, at most ``busy_starts_per_s``. In arrival order."""

    def __init__(self, pacing: Pacing, load: ForegroundLoad | None, clock: Clock) -> None:
        self._pacing = pacing
        self._load = load
        self._clock = clock
        self._pending: deque[tuple[float, dict[str, Any]]] = deque()
        self._next_start = 0.0

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, event: dict[str, Any]) -> None:
        self._pending.append((self._clock(), event))

    def due(self) -> list[dict[str, Any]]:
        pacing, now = self._pacing, self._clock()
        out: list[dict[str, Any]] = []
        busy: bool | None = None
        while self._pending and now >= self._next_start:
            age = now - self._pending[0][0]
            if age < pacing.grace_s:
                break
            if busy is None:
                busy = self._busy()
            if busy and age < pacing.max_defer_s:
                break
            out.append(self._pending.popleft()[1])
            rate = pacing.busy_starts_per_s if busy else pacing.starts_per_s
            # Up to a second's worth may start at once after a pause, no more.
            self._next_start = max(self._next_start, now - 1.0) + 1.0 / rate
        return out

    def _busy(self) -> bool:
        return self._load is not None and self._load.busy_fraction() >= self._pacing.yield_above


def forget_finished_executions(state_machines: Iterable[Any], keep: int) -> int:
    """Drops all but the ``keep`` most recent finished executions of each state machine;
    running ones stay. Returns how many were dropped.

    moto keeps every execution (and its history) for as long as it runs, and scans them all
    at each start (name idempotency): memory and the cost of a start grew with every upload.
    AWS keeps closed executions for 90 days; a local stack keeps the recent ones, enough to
    inspect what just happened."""
    dropped = 0
    for machine in state_machines:
        executions = machine.executions
        finished = [e for e in list(executions) if e.stop_date is not None]
        for execution in finished[: max(0, len(finished) - keep)]:
            # One at a time: moto appends new executions from other threads meanwhile.
            executions.remove(execution)
            dropped += 1
    return dropped


class LocalWorkflows:
    TICK_S = 0.05

    def __init__(
        self,
        *,
        session: boto3.session.Session,
        aws_url: str,
        names: WorkflowNames,
        lambdas: LambdaFunctions,
        fast: bool,
        load: ForegroundLoad | None = None,
        pacing: Pacing = Pacing(),
        clock: Clock = time.monotonic,
        keep_finished: int = 200,
    ) -> None:
        self.names = names
        self._keep_finished = keep_finished
        self._session = session
        self._aws_url = aws_url
        self._lambdas = lambdas
        self._fast = fast
        self._pacer = StartPacer(pacing, load, clock)
        self._stop = threading.Event()
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._table_changed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._queue_url = ""

    def _client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self._aws_url)  # type: ignore[call-overload]

    # ----- provisioning -----
    def provision(self) -> None:
        names = self.names
        s3 = self._session.client(
            "s3", endpoint_url=self._aws_url, config=Config(s3={"addressing_style": "path"})
        )
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if names.analytics_bucket not in existing:
            s3.create_bucket(Bucket=names.analytics_bucket)
        sns, sqs = self._client("sns"), self._client("sqs")
        sns.create_topic(Name=names.topic_name)
        self._queue_url = sqs.create_queue(QueueName=names.inbox_queue)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=names.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        for handler_spec in definitions.EVENT_HANDLERS:
            self._lambdas.register(
                f"{names.prefix}-{handler_spec.name}", import_handler(handler_spec.handler)
            )
        sfn = self._client("stepfunctions")
        for spec in definitions.STATE_MACHINES:
            substitutions: dict[str, str] = {}
            for placeholder in spec.placeholders:
                if isinstance(placeholder, LambdaPlaceholder):
                    substitutions[placeholder.name] = self._lambdas.register(
                        names.function_name(placeholder), import_handler(placeholder.handler)
                    )
                else:
                    substitutions[placeholder.name] = names.resource(
                        placeholder.resource, placeholder.attribute
                    )
            definition = definitions.parsed(spec, substitutions)
            if self._fast:
                definition = fast_timing(definition)
            sfn.create_state_machine(
                name=names.state_machine_name(spec),
                definition=json.dumps(definition),
                roleArn=ROLE_ARN,
            )

    # ----- running -----
    def start(self) -> None:
        self.drain_stream()  # what restoring the snapshot wrote is not new activity
        for name, target in (
            ("workflow-s3-events", self._run_s3_events),
            ("workflow-inbox", self._run_inbox),
            ("workflow-stream", self._run_stream),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._events.put(None)
        self._table_changed.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def on_object_created(self, created: ObjectCreatedEvent) -> None:
        # As the EventBridge rule in AWS: only objects the API wrote start the workflow (a
        # peer client writing elsewhere in the bucket costs no execution).
        if created.bucket == self.names.upload_bucket and created.key.startswith(
            naming.USER_OBJECTS_PREFIX
        ):
            self._events.put(s3_event(created, self.names.region))

    def on_table_write(self) -> None:
        self._table_changed.set()

    def _run_s3_events(self) -> None:
        sfn = self._client("stepfunctions")
        arn = self.names.state_machine_arn(definitions.UPLOAD_PROCESSING)
        pacer = self._pacer
        started = 0
        while True:
            try:
                event = self._events.get(timeout=self.TICK_S if len(pacer) else None)
                while event is not None:
                    pacer.add(event)
                    event = self._events.get_nowait()
                return  # None: stopping
            except queue.Empty:
                pass
            for due in pacer.due():
                if self._stop.is_set():
                    return
                try:
                    sfn.start_execution(
                        stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(due)
                    )
                except Exception:
                    log.exception("could not start the upload workflow")
                started += 1
                if started % 100 == 0:
                    self.forget_finished()

    def forget_finished(self) -> int:
        """Applies the retention of finished executions (see
        :func:`forget_finished_executions`) to the stack's state machines."""
        from moto.stepfunctions.responses import get_backend

        backend = get_backend(ACCOUNT_ID, self.names.region)
        return forget_finished_executions(list(backend.state_machines), self._keep_finished)

    def _run_inbox(self) -> None:
        sqs = self._client("sqs")
        handler = event_handler("NotificationInbox")
        while not self._stop.is_set():
            try:
                out = sqs.receive_message(
                    QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("inbox queue receive failed")
                self._stop.wait(1)
                continue
            messages = out.get("Messages", [])
            if not messages:
                continue
            records = [{"EventSource": "aws:sns", "Sns": json.loads(m["Body"])} for m in messages]
            try:
                handler({"Records": records}, None)
            except Exception:
                log.exception("inbox handler failed; the messages will be redelivered")
                continue
            sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )

    def drain_stream(self) -> list[dict[str, Any]]:
        """Take (and trim) the table's stream records: moto never trims them itself."""
        from moto.dynamodb.models import dynamodb_backends

        with DYNAMODB_LOCK:
            table = dynamodb_backends[ACCOUNT_ID][self.names.region].get_table(self.names.table)
            shard = table.stream_shard
            if shard is None or not shard.items:
                return []
            taken = shard.items
            shard.starting_sequence_number += len(taken)
            shard.items = []
        return [as_lambda_gets(r.to_json()) for r in taken]

    def _run_stream(self) -> None:
        handler = event_handler("AnalyticsEvents")
        pending: list[dict[str, Any]] = []
        while not self._stop.is_set():
            self._table_changed.wait(1)
            self._table_changed.clear()
            pending.extend(self.drain_stream())
            if not pending:
                continue
            try:
                handler({"Records": pending}, None)
            except Exception:
                log.exception("analytics handler failed; retrying the batch")
                self._stop.wait(1)
                continue
            pending = []


def as_lambda_gets(record: dict[str, Any]) -> dict[str, Any]:
    """A moto stream record as Lambda gets it. moto builds each record's images as plain JSON
    when the write happens, and drops the record once drained, so only the creation time (a
    datetime) needs converting: to epoch seconds, as in AWS's events. (A JSON round trip of
    every record here cost 4% of the stack's CPU during a sync of small files.)"""
    data = record["dynamodb"]
    when = data.get("ApproximateCreationDateTime")
    if isinstance(when, datetime):
        stamp = when if when.tzinfo else when.replace(tzinfo=UTC)
        data["ApproximateCreationDateTime"] = stamp.timestamp()
    return record


def object_lambda_client(session: boto3.session.Session, aws_url: str) -> Any:
    """An S3 client for WriteGetObjectResponse against the local endpoint (no host prefix)."""
    return session.client(
        "s3",
        endpoint_url=aws_url,
        config=Config(
            s3={"addressing_style": "path"}, signature_version="s3v4", inject_host_prefix=False
        ),
    )


def event_handler(name: str) -> Handler:
    spec = next(h for h in definitions.EVENT_HANDLERS if h.name == name)
    return import_handler(spec.handler)
