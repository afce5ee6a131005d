"""A bare Flask app with the check API's paths and answer shapes and no work behind them: the yardstick
bench/http.py compares the real check endpoint with (same server, same JSON in and out)."""
from flask import Flask, request

app = Flask("bare")


def _answer(r: dict) -> dict:
    return {"allowed": True, "subject": r.get("subject"), "domain": r.get("domain"), "object": r.get("object"),
            "action": r.get("action")}


@app.post("/api/v1/check")
def check():
    return {**_answer(request.get_json()), "policy": "bare"}


@app.post("/api/v1/check/batch")
def batch():
    return {"results": [_answer(r) for r in request.get_json()["requests"]], "policy": "bare"}


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
