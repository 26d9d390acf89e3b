"""Checks every proxied call the SDK drivers recorded against SpendOps' usage
events and the scripted upstream's log, prints one line per SDK step, and
writes the results as JSON (compat/results_md.py renders them).

For each call: exactly one event (found by X-ASO-Request-Id, or by a lookup
query where the SDK exposes no headers); its dims equal the X-ASO-Dims the SDK
sent; outcome and http_status as expected; no X-ASO-* header reached the
provider; and, where the provider reported usage, the event's usage equals it
(prompt/completion/total/cache read/cache write/reasoning tokens) with
usage_source "provider".

Usage: verify.py --records FILE... --api URL --token T --upstream URL
                 [--json OUT] [--mode NAME]
Exit status 1 when any step failed.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TOKEN_FIELDS = ["prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens"]


def get_json(url, token=None, timeout=5):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.load(resp)


def event_query(call):
    params = dict(call["lookup"]) if call.get("lookup") else {"request_id": call["request_id"]}
    return urllib.parse.urlencode(params)


def fetch_events(api, token, calls, deadline_s=6.0):
    """Polls the admin API until every call's event appears or the deadline
    passes (SpendOps promises 2 s; slack for a loaded machine). The drivers
    finished before this runs, so most events are there on the first round.
    Returns {index: (events, error)}."""
    found, errors = {}, {}
    pending = set(range(len(calls)))
    end = time.monotonic() + deadline_s
    while pending:
        for i in sorted(pending):
            call = calls[i]
            try:
                events = get_json(f"{api}/api/v1/events?{event_query(call)}", token).get("events") or []
            except Exception as e:  # noqa: BLE001 - report whatever the API did
                errors[i] = f"{type(e).__name__}: {e}"
                if isinstance(e, urllib.error.HTTPError) and e.code in (401, 403, 404, 405):
                    pending.discard(i)  # no point polling an API that is not there
                continue
            if call.get("lookup") and call["http_status"] is not None:
                events = [e for e in events if e.get("http_status") == call["http_status"]]
            if events:
                found[i] = events
                pending.discard(i)
        if not pending or time.monotonic() > end:
            break
        time.sleep(0.2)
    return {i: (found.get(i, []), errors.get(i)) for i in range(len(calls))}


def upstream_entries(upstream, call):
    data = get_json(f"{upstream}/_compat/log?{urllib.parse.urlencode({'trace': call['trace']})}")
    entries = [e for e in data.get("entries") or [] if e["trace"] == call["trace"]]
    if call.get("upstream_path"):
        entries = [e for e in entries if e["path"] == call["upstream_path"]]
    return entries


def check_call(upstream, call, events, err):
    """Returns a list of problems with one proxied call (empty when fine)."""
    probs = []
    where = f"request {call.get('request_id') or call.get('lookup')}"
    if not events:
        return [f"{where}: no usage event recorded" + (f" ({err})" if err else "")]
    if len(events) != 1:
        probs.append(f"{where}: {len(events)} events, want exactly one")
    ev = events[0]
    if call.get("request_id") and ev.get("request_id") != call["request_id"]:
        probs.append(f"{where}: event request_id {ev.get('request_id')!r}")
    if (ev.get("dims") or {}) != call["dims"]:
        probs.append(f"{where}: event dims {ev.get('dims')} != X-ASO-Dims sent {call['dims']}")
    if ev.get("outcome") != call["outcome"]:
        probs.append(f"{where}: outcome {ev.get('outcome')!r}, want {call['outcome']!r}")
    if call["http_status"] is not None and ev.get("http_status") != call["http_status"]:
        probs.append(f"{where}: http_status {ev.get('http_status')}, want {call['http_status']}")

    entries = upstream_entries(upstream, call)
    if not entries:
        probs.append(f"{where}: the scripted upstream never saw trace {call['trace']!r}")
        return probs
    if not call.get("upstream_path") and len(entries) != 1:
        probs.append(f"{where}: upstream saw trace {call['trace']!r} {len(entries)} times (retried?)")
    up = entries[-1]
    if up.get("aso_headers"):
        probs.append(f"{where}: X-ASO headers reached the provider: {up['aso_headers']}")
    if not up.get("auth"):
        probs.append(f"{where}: no provider credential reached the provider")
    if call["usage"] == "provider":
        if not up.get("usage_reported"):
            probs.append(f"{where}: the provider reported no usage (stream_options.include_usage received: {up.get('include_usage')})")
        if ev.get("usage_source") != "provider":
            probs.append(f"{where}: usage_source {ev.get('usage_source')!r}, want 'provider'")
        want = up.get("expect") or {}
        for f in TOKEN_FIELDS:
            got = ev.get(f) or 0
            if got != want.get(f, 0):
                probs.append(f"{where}: {f} {ev.get(f)} != {want.get(f, 0)} reported by the provider")
    elif call["usage"] == "not-provider":
        if ev.get("usage_source") == "provider":
            probs.append(f"{where}: usage_source 'provider' although the provider reported no usage")
    return probs


def load(paths):
    recs = []
    for p in paths:
        try:
            with open(p) as f:
                recs += [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            pass
    return recs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", nargs="+", required=True)
    ap.add_argument("--api", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--expect-sdks", default="", help="comma-separated SDK names that must have reported")
    ap.add_argument("--json")
    ap.add_argument("--mode", default="all-in-one", help="named in every FAIL line")
    ap.add_argument("--known", help="known-failures file: lines 'SDK STEP  # reason'")
    a = ap.parse_args()

    recs = load(a.records)
    calls = [c for rec in recs for c in rec.get("calls", [])]
    fetched = fetch_events(a.api, a.token, calls)
    results, i = [], 0
    for rec in recs:
        probs = [] if rec.get("ok") else [f"SDK step failed: {rec.get('error')}"]
        for call in rec.get("calls", []):
            probs += check_call(a.upstream, call, *fetched[i])
            i += 1
        results.append({**rec, "pass": not probs, "problems": probs})
    known = {}
    if a.known:
        with open(a.known) as f:
            for line in f:
                body, _, reason = line.partition("#")
                parts = body.split()
                if len(parts) == 2:
                    known[tuple(parts)] = reason.strip()
    for r in results:
        if not r["pass"] and (r["sdk"], r["step"]) in known:
            r["known"] = known[(r["sdk"], r["step"])]
    # Drivers run side by side; order the report by the expected SDK list so
    # that RESULTS.md only changes when results do.
    order = {sdk: i for i, sdk in enumerate(filter(None, a.expect_sdks.split(",")))}
    results.sort(key=lambda r: order.get(r["sdk"], len(order)))
    seen = {r["sdk"] for r in results}
    for sdk in filter(None, a.expect_sdks.split(",")):
        if sdk not in seen:
            results.append({"sdk": sdk, "version": "?", "step": "(driver)", "what": "driver ran", "pass": False,
                            "problems": ["driver reported no steps (crashed before its first step?)"], "notes": []})

    for r in results:
        if r["pass"]:
            print(f"PASS [{a.mode}] {r['sdk']} {r['step']}")
        else:
            tag = "KNOWN" if r.get("known") else "FAIL"
            for p in r["problems"]:
                print(f"{tag} [{a.mode}] {r['sdk']} {r['step']}: {p}")
    passed = sum(r["pass"] for r in results)
    known_failed = sum(1 for r in results if not r["pass"] and r.get("known"))
    failed = len(results) - passed - known_failed
    if known_failed:
        print(f"compat: {known_failed} known failures listed in {a.known} (not counted as failed)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"compat [{a.mode}]: {passed} passed, {failed} failed" + (f", {known_failed} skipped" if known_failed else ""))
    sys.exit(1 if failed or not results else 0)


if __name__ == "__main__":
    main()
