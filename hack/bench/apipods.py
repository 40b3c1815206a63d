#!/usr/bin/env python3
"""Drives hack/bench/api-pods: pods POSTed bound to the node vs the same pods as static manifests.

  apipods.py SERVER TOKEN CA NODE MANIFEST_DIR RUNS BURST OUT_DIR

Both kinds are timed from the moment they are asked for (POST returns / manifest renamed into the directory) until a
watch on the API server shows the pod (for static pods: its mirror pod) with phase Running. Writes the latencies in
ns to OUT_DIR/{api-one,static-one,api-burst,static-burst} and the node's requests during the API burst to
OUT_DIR/requests (verb resource count), counted until they stop coming.
"""
import json, os, ssl, sys, threading, time, urllib.request

server, token, ca, node, manifests, runs, burst, out = sys.argv[1:9]
runs, burst = int(runs), int(burst)
ctx = ssl.create_default_context(cafile=ca)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}


def call(method, path, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, context=ctx, timeout=timeout) as r:
        return r.read()


running = {}   # pod name -> monotonic ns when first seen Running
gone = set()   # names seen DELETED
cond = threading.Condition()


def watch():
    rv = json.loads(call("GET", "/api/v1/namespaces/default/pods"))["metadata"]["resourceVersion"]
    req = urllib.request.Request(server + f"/api/v1/namespaces/default/pods?watch=1&allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds=3600",
                                 headers=headers)
    ready.set()
    with urllib.request.urlopen(req, context=ctx, timeout=3700) as r:
        for line in r:
            t = time.monotonic_ns()
            ev = json.loads(line)
            obj = ev["object"]
            if ev["type"] == "BOOKMARK":
                continue
            name = obj["metadata"]["name"]
            with cond:
                if ev["type"] == "DELETED":
                    gone.add(name)
                    running.pop(name, None)
                elif obj.get("status", {}).get("phase") == "Running" and name not in running:
                    running[name] = t
                    gone.discard(name)
                cond.notify_all()


ready = threading.Event()
threading.Thread(target=watch, daemon=True).start()
ready.wait(30)


def wait_for(pred, what, timeout=180):
    with cond:
        if not cond.wait_for(pred, timeout):
            raise SystemExit(f"timed out waiting for {what}")


def pod(name, bound=True):
    spec = {"nodeName": node} if bound else {}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": spec | {"terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "main", "image": "localhost/busybox:latest", "imagePullPolicy": "Never",
                                     "command": ["sh", "-c", "exec sleep 1000"]}]}}


def post(name):
    t0 = time.monotonic_ns()
    call("POST", "/api/v1/namespaces/default/pods", pod(name))
    return t0


def stage(name):
    """Writes the static manifest under a hidden name (the agent ignores it until publish renames it)."""
    with open(os.path.join(manifests, "." + name + ".json"), "w") as f:
        json.dump(pod(name, bound=False), f)


def publish(name):
    os.rename(os.path.join(manifests, "." + name + ".json"), os.path.join(manifests, name + ".json"))


def write_manifest(name):
    stage(name)
    t0 = time.monotonic_ns()
    publish(name)
    return t0


def delete_api(names):
    for n in names:
        call("DELETE", f"/api/v1/namespaces/default/pods/{n}")
    wait_for(lambda: all(n in gone for n in names), "API pods deleted")


def delete_static(names):
    for n in names:
        os.remove(os.path.join(manifests, n + ".json"))
    wait_for(lambda: all(f"{n}-{node}" in gone for n in names), "mirror pods deleted")


def metrics():
    counts = {}
    for line in call("GET", "/metrics").decode().splitlines():
        if line.startswith("testapiserver_requests_total{") and f'user="system:node:{node}"' in line:
            labels, value = line[len("testapiserver_requests_total{"):].rsplit("} ", 1)
            kv = dict(p.split("=", 1) for p in labels.split(","))
            counts[(kv["verb"].strip('"'), kv["resource"].strip('"'))] = int(value)
    return counts


def record(file, values):
    with open(os.path.join(out, file), "a") as f:
        for v in values:
            f.write(f"{v}\n")


# Warm-up: one of each.
t = post("warm-api"); wait_for(lambda: "warm-api" in running, "warm-api"); delete_api(["warm-api"])
t = write_manifest("warm-st"); wait_for(lambda: f"warm-st-{node}" in running, "warm-st"); delete_static(["warm-st"])

for i in range(runs):
    n = f"a{i}"; t0 = post(n); wait_for(lambda: n in running, n); record("api-one", [running[n] - t0]); delete_api([n])
    s = f"s{i}"; t0 = write_manifest(s); m = f"{s}-{node}"; wait_for(lambda: m in running, m); record("static-one", [running[m] - t0]); delete_static([s])

names = [f"ab{i}" for i in range(burst)]
before = metrics()
t0 = time.monotonic_ns()
for n in names:
    post(n)
wait_for(lambda: all(n in running for n in names), "API burst")
record("api-burst", [running[n] - t0 for n in names])
# The node's requests for these starts: until they stop coming (events are sent by a rate-limited background queue).
after = metrics()
for _ in range(60):
    time.sleep(1)
    now = metrics()
    if now == after:
        break
    after = now
with open(os.path.join(out, "requests"), "w") as f:
    for key in sorted(set(before) | set(after)):
        d = after.get(key, 0) - before.get(key, 0)
        if d:
            f.write(f"{key[0]} {key[1]} {d}\n")
delete_api(names)

snames = [f"sb{i}" for i in range(burst)]
for n in snames:
    stage(n)
t0 = time.monotonic_ns()
for n in snames:
    publish(n)
wait_for(lambda: all(f"{n}-{node}" in running for n in snames), "static burst")
record("static-burst", [running[f"{n}-{node}"] - t0 for n in snames])
delete_static(snames)
