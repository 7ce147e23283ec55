"""Files uploaded on the import page: received as a plain form post, streamed to disk, then loaded by a job.

Why not Dash's upload component: it reads each file into the page as base64 text and sends it inside
a callback's JSON. A file of a few hundred MB crashed the browser tab, and the server would have held
the whole upload in memory twice. Here the browser (dashboard/assets/upload.js) posts the files as
multipart form data to UPLOAD_URL, with the CSRF token Dash's own requests carry; Werkzeug writes each
to a temporary file in pieces, and this module moves it into the job's folder. The answer is small
JSON: the job's id, and whether a file would replace an earlier version (then the page asks first).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path, PureWindowsPath
from typing import BinaryIO

import flask

from dashboard import load_jobs, rights, security
from dashboard.clinic_data import clinic
from etl.load import preview
from etl.load_job import write_json
from etl.sniff import EXTENSIONS

UPLOAD_URL = "/import/upload"
PREVIEW = "preview.json"  # in the job's folder: the files an upload would replace, for the question


def register(server: flask.Flask) -> None:
    server.add_url_rule(UPLOAD_URL, "import_upload", _receive_request, methods=["POST"])


def _receive_request():
    files = flask.request.files.getlist("files")
    try:
        answer = receive([(f.filename or "", f.stream) for f in files])
    except security.Refused:  # audited by rights.requires
        return flask.jsonify(refusal="Not uploaded: only an admin may upload files."), 403
    return flask.jsonify(answer), 400 if "refusal" in answer else 200


@rights.requires("import")
def receive(files: Iterable[tuple[str, BinaryIO]]) -> dict:
    """Save the uploaded files in a new job's folder and start loading them, or, when one would replace
    an earlier version, leave them there and say so. {"job": id, "confirm": bool} or {"refusal": why}."""
    files = list(files)
    names = [name for name, _ in files]
    refusal = upload_refusal(names, [], security.max_upload_mb())  # the kinds of file: before saving any
    if refusal:
        return _refused(names, refusal)
    db = clinic().db
    job_id, folder = load_jobs.new_job(db, rights.current().username)
    try:
        saved = [_save(stream, folder.files / safe_file_name(name)) for name, stream in files]
        refusal = upload_refusal(names, [path.stat().st_size for path in saved], security.max_upload_mb())
        if refusal:
            folder.remove()
            return _refused(names, refusal)
        replacing = [p for p in preview(db, saved) if p.status == "replaces"]
    except Exception as e:  # whatever went wrong, the page stays up and says what
        folder.remove()
        logging.getLogger(__name__).exception("upload of %s failed", names)
        rights.record("import", f"upload of {', '.join(names)} failed: {type(e).__name__}", outcome="failed")
        return {"refusal": f"The upload could not be loaded: {e}"}
    if replacing:
        write_json(folder.path / PREVIEW, {"replacing": [vars(p) for p in replacing]})
        return {"job": job_id, "action": "load", "confirm": True}
    start(folder, "load")
    return {"job": job_id, "action": "load", "confirm": False}


def _refused(names: list[str], refusal: str) -> dict:
    rights.record("import", f"refused an upload of {', '.join(names)}: {refusal}", outcome="refused")
    return {"refusal": f"Not uploaded: {refusal}"}


def start(folder: load_jobs.JobFolder, action: str, load: int | None = None) -> None:
    warehouse = clinic()
    load_jobs.start(folder, warehouse.db, warehouse.settings, rights.current().username, action, load)


def _save(stream: BinaryIO, path: Path) -> Path:
    if path.exists():
        raise ValueError(f"two of the files are named {path.name}: upload them one at a time")
    with open(path, "xb") as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)
    path.chmod(0o600)
    return path


def upload_refusal(filenames: list[str], sizes: list[int], max_mb: int) -> str | None:
    """Why an upload is refused before anything is loaded (None: it is not): more than `max_mb` in all
    (the `sizes` of the files saved, none yet: not checked), or a file of a kind hipline does not read."""
    if not filenames:
        return "no files arrived"
    unreadable = [name for name in filenames if PureWindowsPath(name or "").suffix.lower() not in EXTENSIONS]
    if unreadable:
        return f"{', '.join(unreadable)} is not a kind of file hipline reads ({' '.join(sorted(EXTENSIONS))})"
    size = sum(sizes)
    if size > max_mb * 1024 * 1024:
        return f"these files hold {size / 1024 / 1024:.1f} MB, more than an upload may ({max_mb} MB)"
    return None


def safe_file_name(name: str) -> str:
    """The file's own name without any folder (from either kind of slash). Leading dots are dropped, so
    no name can point outside the upload folder (`..`) or hide the file."""
    base = PureWindowsPath(name or "").name.strip().lstrip(".")
    return base or "upload"
