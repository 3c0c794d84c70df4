"""Replication policies and executions of the fake Harbor (fake_harbor.py calls ``route`` for
``/replication/policies...`` and ``/replication/executions...``).

It follows Harbor v2.15's handler and controller (src/server/v2.0/handler/replication.go,
src/controller/replication): a policy needs a name (400 "empty name"), exactly one of
``src_registry``/``dest_registry`` with a non-zero id (id 0 or none is this Harbor), registries that exist (404),
valid filters, trigger and cron (400); a taken name is a 409. POST and PUT take the whole policy: what PUT leaves
out is reset (``copy_by_chunk`` false, ``speed`` 0, ``dest_namespace_replace_count`` -1), a negative speed is
stored as 0, and deletion is read from the deprecated ``deletion`` field only, as Harbor's handler does. GET shows
``src_registry``/``dest_registry`` filled in (this Harbor as ``Local``, id 0) and both ``deletion`` and
``replicate_deletion``.

An execution (``POST /replication/executions {"policy_id"}``, 404 for an unknown policy, 412 for a disabled one)
goes through the statuses of ``replication_statuses(fake)`` (by default InProgress, then Succeed), one per
``GET /replication/executions/{id}`` (the last one stays); tests set ``fake.replication_statuses`` to script
another end. Its task counts follow its status. Deleting a policy with an execution still InProgress is a 412.
State lives on the fake object: ``fake.replication_policies`` (id -> stored policy) and
``fake.replication_executions`` (id -> execution with its remaining statuses).
"""

import re

from fake_harbor import PREFIX, Answer, by_id, error, now

LOCAL = {"id": 0, "name": "Local", "type": "harbor", "url": "http://core:8080", "description": "", "insecure": True,
         "status": "healthy", "credential": {"type": "secret", "access_key": "", "access_secret": "*****"},
         "creation_time": "0001-01-01T00:00:00.000Z", "update_time": "0001-01-01T00:00:00.000Z"}
FILTER_TYPES = ("name", "tag", "label", "resource")
TRIGGERS = ("manual", "scheduled", "event_based")
ENDED = ("Succeed", "Failed", "Stopped")
# docker/distribution's repository name (path components), which Harbor checks dest_namespace with
NAMESPACE_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-*)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-*)[a-z0-9]+)*)*$")


def policies(fake):
    return fake.__dict__.setdefault("replication_policies", {})


def executions(fake):
    return fake.__dict__.setdefault("replication_executions", {})


def replication_statuses(fake):
    """The statuses a new execution shows, one a GET (the last one stays); a test may set the attribute."""
    return fake.__dict__.setdefault("replication_statuses", ["InProgress", "Succeed"])


def add_policy(fake, name, registry_id, direction="push", **fields):
    """A policy as if created through the API (stored form); returns its id."""
    policy_id = next(fake._ids)  # pylint: disable=protected-access
    policy = {"id": policy_id, "name": name, "description": "", "src_registry_id": 0, "dest_registry_id": 0,
              "dest_namespace": "", "dest_namespace_replace_count": -1, "filters": [],
              "trigger": {"type": "manual", "trigger_settings": {"cron": ""}}, "deletion": False, "override": True,
              "enabled": True, "speed": 0, "copy_by_chunk": False, "single_active_replication": False,
              "creation_time": now(), "update_time": now()}
    policy["src_registry_id" if direction == "pull" else "dest_registry_id"] = registry_id
    policy.update(fields)
    policies(fake)[policy_id] = policy
    return policy_id


def policy_named(fake, name):
    """The stored policy named `name`, or None."""
    return next((p for p in policies(fake).values() if p["name"] == name), None)


def registry_users(fake, registry_id):
    """The names of the policies that use a registry endpoint (Harbor refuses to delete it then: 412)."""
    return [p["name"] for p in policies(fake).values() if registry_id in (p["src_registry_id"], p["dest_registry_id"])]


def route(fake, method, parts, query, body):
    rest = parts[2:]
    if parts[1] == "policies":
        if not rest and method == "GET":
            return list_policies(fake, query)
        if not rest and method == "POST":
            return save_policy(fake, body, None)
        if len(rest) == 1:
            policy = by_id(policies(fake), rest[0], "replication policy")
            if method == "GET":
                return Answer(200, policy_out(fake, policy))
            if method == "PUT":
                return save_policy(fake, body, policy)
            if method == "DELETE":
                return delete_policy(fake, policy)
    else:
        if not rest and method == "GET":
            return list_executions(fake, query)
        if not rest and method == "POST":
            return start(fake, body)
        if rest:
            execution = by_id(executions(fake), rest[0], "replication execution")
            if len(rest) == 1 and method == "GET":
                return Answer(200, execution_out(execution, advance=True))
            if len(rest) == 1 and method == "PUT":
                if execution["statuses"][0] not in ENDED:
                    execution["statuses"] = ["Stopped"]
                return Answer(200)
            if rest[1:] == ["tasks"] and method == "GET":
                return Answer(200, [], {"X-Total-Count": "0"})
    raise error(405, "METHOD_NOT_ALLOWED", "%s /%s is not part of the fake" % (method, "/".join(parts)))


# ---------------------------------------------------------------- policies

def registry_out(fake, registry_id):
    if not registry_id:
        return dict(LOCAL)
    registry = fake.registries.get(registry_id)
    return fake.registry_out(registry) if registry else {"id": registry_id}


def policy_out(fake, policy):
    out = {k: v for k, v in policy.items() if k not in ("src_registry_id", "dest_registry_id")}
    out["src_registry"] = registry_out(fake, policy["src_registry_id"])
    out["dest_registry"] = registry_out(fake, policy["dest_registry_id"])
    out["replicate_deletion"] = policy["deletion"]
    out["filters"] = [dict(f) for f in policy["filters"]] or None
    return out


def list_policies(fake, query):
    name = query.get("name")
    exact = fake.q_filter(query, {"name": "name"})
    answer = fake.list_of(sorted(policies(fake).values(), key=lambda p: p["id"]), query,
                          lambda p: exact(p) and (name is None or name in p["name"]))
    answer.body = [policy_out(fake, p) for p in answer.body]
    return answer


def checked_filters(filters):
    out = []
    for item in filters or []:
        kind, value, decoration = item.get("type"), item.get("value"), item.get("decoration") or ""
        if kind in ("name", "tag", "resource"):
            if not isinstance(value, str):
                raise error(400, "BAD_REQUEST", "the type of filter value isn't string")
            if kind == "resource" and value not in ("image", "artifact"):
                raise error(400, "BAD_REQUEST", "invalid resource filter: %s" % value)
            if kind != "tag" and decoration:
                raise error(400, "BAD_REQUEST", "only tag and label filter support decoration")
        elif kind == "label":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise error(400, "BAD_REQUEST", "the type of label filter value isn't string slice")
        else:
            raise error(400, "BAD_REQUEST", "invalid filter type")
        if decoration not in ("", "matches", "excludes"):
            raise error(400, "BAD_REQUEST", "invalid filter decoration, :%s" % decoration)
        stored = {"type": kind, "value": value}
        if decoration:
            stored["decoration"] = decoration
        out.append(stored)
    return out


def checked_trigger(trigger):
    if trigger is None:
        return None
    kind = trigger.get("type")
    cron = (trigger.get("trigger_settings") or {}).get("cron") or ""
    if kind not in TRIGGERS:
        raise error(400, "BAD_REQUEST", "invalid trigger type")
    if kind == "scheduled":
        if not cron:
            raise error(400, "BAD_REQUEST", "the cron string cannot be empty when the trigger type is scheduled")
        fields = cron.split(" ")
        if len(fields) != 6:
            raise error(400, "BAD_REQUEST", "invalid cron string for scheduled trigger: %s" % cron)
        if fields[0] != "0":
            raise error(400, "BAD_REQUEST", "the 1st field (indicating Seconds of time) of the cron setting must be 0")
        if fields[1] == "*":
            raise error(400, "BAD_REQUEST",
                        "* is not allowed for the Minutes field of the cron setting of replication policy")
    return {"type": kind, "trigger_settings": {"cron": cron}}


def save_policy(fake, body, policy):
    """POST (policy None) or PUT: the whole policy, checked as Harbor's controller does."""
    body = body if isinstance(body, dict) else {}
    name = body.get("name") or ""
    if not name:
        raise error(400, "BAD_REQUEST", "empty name")
    src = (body.get("src_registry") or {}).get("id") or 0
    dest = (body.get("dest_registry") or {}).get("id") or 0
    if bool(src) == bool(dest):
        raise error(400, "BAD_REQUEST",
                    "either src_registry or dest_registry should be empty and the other one shouldn't be empty")
    filters = checked_filters(body.get("filters"))
    namespace = body.get("dest_namespace") or ""
    if namespace and not NAMESPACE_RE.match(namespace):
        raise error(400, "BAD_REQUEST", "invalid destination namespace: %s" % namespace)
    trigger = checked_trigger(body.get("trigger"))
    for registry_id in (src, dest):
        if registry_id and registry_id not in fake.registries:
            raise error(404, "NOT_FOUND", "registry %d not found" % registry_id)
    other = policy_named(fake, name)
    if other is not None and (policy is None or other["id"] != policy["id"]):
        raise error(409, "CONFLICT", "replication policy %s already exists" % name)
    speed = body.get("speed")
    count = body.get("dest_namespace_replace_count")
    fields = {"name": name, "description": body.get("description") or "", "src_registry_id": src,
              "dest_registry_id": dest, "dest_namespace": namespace,
              "dest_namespace_replace_count": -1 if count is None else count, "filters": filters,
              "trigger": trigger, "deletion": bool(body.get("deletion")), "override": bool(body.get("override")),
              "enabled": bool(body.get("enabled")), "speed": max(speed or 0, 0),
              "copy_by_chunk": bool(body.get("copy_by_chunk")),
              "single_active_replication": bool(body.get("single_active_replication")), "update_time": now()}
    if policy is None:
        policy_id = add_policy(fake, name, 0)
        policies(fake)[policy_id].update(fields)
        return Answer(201, None, {"Location": "%s/replication/policies/%d" % (PREFIX, policy_id)})
    policy.update(fields)
    return Answer(200)


def delete_policy(fake, policy):
    mine = [e for e in executions(fake).values() if e["policy_id"] == policy["id"]]
    if any(e["statuses"][0] not in ENDED for e in mine):
        raise error(412, "PRECONDITION", "contains executions that aren't in final status, stop the execution first")
    for execution in mine:
        del executions(fake)[execution["id"]]
    del policies(fake)[policy["id"]]
    return Answer(200)


# ---------------------------------------------------------------- executions

COUNTS = {"InProgress": {"total": 2, "in_progress": 2}, "Succeed": {"total": 2, "succeed": 2},
          "Failed": {"total": 2, "succeed": 1, "failed": 1}, "Stopped": {"total": 2, "succeed": 1, "stopped": 1}}


def execution_out(execution, advance):
    status = execution["statuses"][0]
    if advance and len(execution["statuses"]) > 1:
        execution["statuses"].pop(0)  # the next GET shows the next status
    out = {k: v for k, v in execution.items() if k != "statuses"}
    out.update({"status": status, "total": 0, "succeed": 0, "failed": 0, "in_progress": 0, "stopped": 0,
                "status_text": "1 of 2 tasks failed" if status == "Failed" else ""})
    out.update(COUNTS.get(status, {}))
    if status in ENDED:
        out["end_time"] = now()
    return out


def start(fake, body):
    policy_id = (body or {}).get("policy_id")
    if not isinstance(policy_id, int) or policy_id not in policies(fake):
        raise error(404, "NOT_FOUND", "replication policy %s not found" % policy_id)
    if not policies(fake)[policy_id]["enabled"]:
        raise error(412, "PRECONDITION", "the policy %d is disabled" % policy_id)
    execution_id = next(fake._ids)  # pylint: disable=protected-access
    executions(fake)[execution_id] = {"id": execution_id, "policy_id": policy_id, "trigger": "manual",
                                      "start_time": now(), "end_time": "0001-01-01T00:00:00.000Z",
                                      "statuses": list(replication_statuses(fake))}
    return Answer(201, None, {"Location": "%s/replication/executions/%d" % (PREFIX, execution_id)})


def list_executions(fake, query):
    wanted = query.get("policy_id")
    items = sorted(executions(fake).values(), key=lambda e: -e["id"])
    answer = fake.list_of(items, query, lambda e: wanted is None or str(e["policy_id"]) == wanted)
    answer.body = [execution_out(e, advance=False) for e in answer.body]
    return answer
