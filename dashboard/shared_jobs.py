"""The caseload's zip of progress reports on a clinic network: Dash's background callback with its job
kept in the network's Redis (HIPLINE_REDIS_URL), so that the browser's polls, its Cancel and the
download may reach any web host, not only the one that started the job.

Why a manager of our own and not Dash's CeleryManager: Celery would add a broker, a worker service to
run and watch on every host that holds a copy of the clinic data, and a second place where the
signed-in user, the warehouse and the settings must be set up. Here nothing more runs: the work stays
where it is on one machine (dash.DiskcacheManager's way: a fork of the request's process on the host
asked to start it, the signed-in user and the request included, which makes the zip in a fresh process,
dashboard.zip_job), and only what the hosts must share is in Redis.

Each start gets a token of 256 random bits (Dash signs it, bound to the page it was started from, before
the browser sees it); its keys, each with an expiry:
  owner      who started it: only they may follow it, stop it or take the zip; to anyone else, and for
             a token Redis does not know, the answer is the same "no longer kept"
  alive      renewed by the job every HEARTBEAT_SECONDS, gone ALIVE_SECONDS after its host stopped: the
             job then says that its host stopped, instead of being waited for
  progress, set_props, result   what Dash's managers keep (the result holds the zip, base64 in JSON;
             taken once, then deleted)
  cancel     set by Cancel on any host; the job's host sees it within a heartbeat and ends the job
Redis asks for a password (hipline.services; docs/deployment.md); an unreachable Redis is said in a
sentence within seconds (short socket timeouts), never waited for.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import copy_context

import psutil
import redis
from _plotly_utils.utils import PlotlyJSONEncoder
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.background_callback._proxy_set_props import ProxySetProps
from dash.background_callback.managers import BaseBackgroundCallbackManager
from dash.exceptions import PreventUpdate
from redis.backoff import NoBackoff
from redis.retry import Retry

from dashboard import rights, security
from dashboard.exports import OneJobPerStart

log = logging.getLogger(__name__)

PREFIX = "hipline:zip-job:"
KEEP_SECONDS = 3600  # a job's progress and zip are kept an hour (as a cancelled run's file on one machine)
HEARTBEAT_SECONDS = 1.0
ALIVE_SECONDS = 5  # a host silent this long has stopped: five missed heartbeats, not one slow one
# One retry: a connection the pool kept from before a Redis restart fails once, then reconnects.
REDIS_OPTIONS = {"socket_connect_timeout": 3, "socket_timeout": 5, "retry": Retry(NoBackoff(), 1)}


class JobGone(Exception):
    """The job cannot be followed any more; the message says why, in words the page shows."""


NOT_KEPT = "they are no longer kept (a zip is kept an hour after it is started): start them again"
HOST_STOPPED = "the server making them stopped before they were done: start them again"
UNREACHABLE = ("the server that keeps them for every host (Redis) cannot be reached: try again in a few "
               "minutes, or tell whoever looks after hipline's servers")  # fmt: skip


def _keys(token: str) -> dict[str, str]:
    return {part: f"{PREFIX}{token}:{part}" for part in ("owner", "alive", "progress", "set_props", "result", "cancel")}


@contextmanager
def _reaching() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as error:
        log.error("the zip's job store cannot be reached: %s", error)
        raise JobGone(UNREACHABLE) from error


class SharedJobs(OneJobPerStart, BaseBackgroundCallbackManager):
    """Dash's background-callback manager (the interface dash.DiskcacheManager implements) on Redis."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redis = redis.Redis.from_url(url, **REDIS_OPTIONS)
        super().__init__(cache_by=None)

    # --- in the request, on any host (the token: exports.OneJobPerStart) ------------------------------

    def call_job_fn(self, key: str, job_fn: Callable, args, context) -> str:
        keys = _keys(key)
        with _reaching(), self.redis.pipeline() as started:
            started.set(keys["owner"], _asking(), ex=KEEP_SECONDS)
            started.set(keys["alive"], _here(), ex=ALIVE_SECONDS)
            started.execute()
        job = multiprocessing.get_context("fork").Process(target=job_fn, args=(key, None, args, context),
                                                          name="hipline-zip-job")  # fmt: skip
        job.start()
        threading.Thread(target=job.join, daemon=True).start()  # reaped when it ends, whoever takes its zip
        return key  # the job is known by its token on every host

    def get_progress(self, key: str):
        if not self._owned(key, audit=False):  # the poll's get_result, just after, audits a refusal
            return None
        with _reaching():
            progress = self.redis.getdel(_keys(key)["progress"])
        return json.loads(progress) if progress else None

    def get_result(self, key: str, job):
        """The job's answer, once; UNDEFINED while it runs. JobGone for a job that is not the asker's or no
        longer kept (the same answer: nothing says whether it existed), and for one whose host stopped
        before it was done."""
        if not self._owned(key):
            raise JobGone(NOT_KEPT)
        keys = _keys(key)
        with _reaching(), self.redis.pipeline() as read:  # one transaction: a job that ends meanwhile has its result
            result, alive = read.get(keys["result"]).exists(keys["alive"]).execute()
        if result is not None:
            self._forget(key, but=("owner", "set_props"))  # read next by get_updated_props, which forgets them
            return json.loads(result)
        if alive:
            return self.UNDEFINED
        self._forget(key)
        raise JobGone(HOST_STOPPED)

    def job_running(self, job) -> bool:
        with _reaching():
            return self._owned(job, audit=False) and bool(self.redis.exists(_keys(job)["alive"]))

    def terminate_job(self, job) -> None:
        """Cancel (or a new start from the same page): the job's host ends it at its next heartbeat."""
        if job is not None and self._owned(job):
            with _reaching():
                self.redis.set(_keys(job)["cancel"], _asking(), ex=KEEP_SECONDS)

    def get_updated_props(self, key: str) -> dict:
        if not self._owned(key, audit=False):
            return {}
        keys = _keys(key)
        with _reaching(), self.redis.pipeline() as read:
            props, alive = read.getdel(keys["set_props"]).exists(keys["alive"]).execute()
        if not alive:  # its answer was just taken: nothing more of it to keep
            self._forget(key)
        return json.loads(props) if props else {}

    def _forget(self, key: str, but: tuple[str, ...] = ()) -> None:
        with _reaching():
            self.redis.delete(*(name for part, name in _keys(key).items() if part not in but))

    def _owned(self, token: str, audit: bool = True) -> bool:
        """The job is the signed-in user's. Another user's is refused as one that does not exist, and
        audited."""
        with _reaching():
            owner = self.redis.get(_keys(token)["owner"])
        if owner is None:
            return False
        if owner.decode() != _asking():
            if audit:
                rights.refused("export", "progress reports (zip) started by another user")
            return False
        return True

    # --- in the job's own process, on the host that started it ----------------------------------------

    def make_job_fn(self, fn: Callable, progress: bool, key=None) -> Callable:
        url = self.url

        def job_fn(token: str, _progress_key, user_callback_args, context) -> None:
            store = redis.Redis.from_url(url, **REDIS_OPTIONS)  # connections of its own, not the parent's
            keys = _keys(token)
            done = threading.Event()
            beating = threading.Thread(target=_heartbeat, args=(store, keys, done), daemon=True)
            beating.start()

            def keep(part: str, value) -> None:
                store.set(keys[part], json.dumps(value, cls=PlotlyJSONEncoder), ex=KEEP_SECONDS)

            answer = _run(fn, user_callback_args, context, progress, keep)
            try:
                keep("result", answer)
            finally:
                done.set()
                beating.join(HEARTBEAT_SECONDS + REDIS_OPTIONS["socket_timeout"])
                store.delete(keys["alive"])  # after the result: a poll finding neither knows the host stopped

        return job_fn


def _run(fn: Callable, args, context, progress: bool, keep: Callable[[str, object], None]):
    """The callback, as Dash's managers run it: its progress and set_props kept, an exception kept as
    Dash's error (the page's on_error says it)."""
    result = None

    def run() -> None:
        nonlocal result
        ctx = AttributeDict(**context)
        ctx.ignore_register_page = False
        ctx.updated_props = ProxySetProps(lambda component, props: keep("set_props", {component: props}))
        context_value.set(ctx)

        def set_progress(value) -> None:
            keep("progress", list(value) if isinstance(value, list | tuple) else [value])

        positional = [set_progress] if progress else []
        try:
            result = fn(*positional, **args) if isinstance(args, dict) else fn(*positional, *args)
        except PreventUpdate:
            result = {"_dash_no_update": "_dash_no_update"}
        except Exception as error:
            log.exception("the background job failed")
            result = {"background_callback_error": {"msg": str(error), "tb": ""}}

    copy_context().run(run)
    return result


def _heartbeat(store: redis.Redis, keys: dict[str, str], done: threading.Event) -> None:
    """Say the job is alive, and end it when Cancel was pressed on any host or its keys are gone (expired,
    or Redis restarted empty): nobody could take its zip any more."""
    while not done.wait(HEARTBEAT_SECONDS):
        try:
            with store.pipeline() as beat:
                beat.set(keys["alive"], _here(), ex=ALIVE_SECONDS).exists(keys["owner"]).exists(keys["cancel"])
                _, owned, cancelled = beat.execute()
        except redis.RedisError as error:  # the job goes on; a poll meanwhile says Redis is out of reach
            log.warning("the zip's job cannot reach Redis: %s", error)
            continue
        if cancelled or not owned:
            store.delete(*keys.values())  # nothing is kept of a job stopped
            _end_this_job()


def _end_this_job() -> None:
    """This process and every one it started, at once, as dash.DiskcacheManager's Cancel does (a partial
    zip left behind is removed with the stale ones, dashboard.exports.zip_path)."""
    for process in psutil.Process().children(recursive=True):
        with suppress(psutil.NoSuchProcess):
            process.kill()
    os._exit(0)


def _asking() -> str:
    viewer = security.viewer()
    return viewer.username if viewer is not None else ""


def _here() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"
