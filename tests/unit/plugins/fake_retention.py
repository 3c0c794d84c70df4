"""Tag retention in the fake Harbor of fake_harbor.py: ``route(fake, method, parts, query, body)`` answers
``/retentions``, ``/retentions/metadatas``, ``/retentions/{id}`` and ``/retentions/{id}/executions[/{eid}]``.

As Harbor v2.15's retention handler: a project has one policy, its id in the project's metadata ``retention_id``
(set at creation, cleared at deletion); creating a second one is a 400; at most 15 rules (400); two identical rules
are a 409; the scope must be an existing project (400 ``invalid Project id``); a schedule's cron is checked (400
``invalid cron string for scheduled tag retention``; six fields, seconds 0); ``PUT`` of a policy the project does
not name is a 404; ``GET`` of a missing policy is a 500 (Harbor's own behaviour), ``DELETE``, runs and listings of
one a 400. The rule templates and their parameters are NOT checked, as Harbor's API does not check them either.
A policy is stored the way Harbor stores it (every rule field present, the trigger without ``references``) and
answered through the swagger model, empty fields left out (go-swagger's omitempty), with ``id``.

Executions: ``POST .../executions`` makes one (201 + Location) that goes through ``fake.retention_statuses``
(default Running, Success), one status for each ``GET .../executions`` listing (the last one stays); the listing is
newest first. ``PATCH .../executions/{eid}`` ``{"action": "stop"}`` stops it. Harbor has no ``GET`` of one
execution: it answers 405, as go-swagger does. The state lives on the fake: ``fake.retentions`` (id -> stored
policy) and ``fake.retention_executions`` (id -> execution).
"""

import json
import re

from fake_harbor import PREFIX, Answer, error, now

MAX_RULES = 15
METADATA = {
    "templates": [
        {"rule_template": "latestPushedK", "display_text": "the most recently pushed # artifacts", "action": "retain",
         "params": [{"type": "int", "unit": "COUNT", "required": True}]},
        {"rule_template": "latestPulledN", "display_text": "the most recently pulled # artifacts", "action": "retain",
         "params": [{"type": "int", "unit": "COUNT", "required": True}]},
        {"rule_template": "nDaysSinceLastPush", "display_text": "pushed within the last # days", "action": "retain",
         "params": [{"type": "int", "unit": "DAYS", "required": True}]},
        {"rule_template": "nDaysSinceLastPull", "display_text": "pulled within the last # days", "action": "retain",
         "params": [{"type": "int", "unit": "DAYS", "required": True}]},
        {"rule_template": "always", "display_text": "always", "action": "retain", "params": []},
    ],
    "scope_selectors": [{"display_text": "Repositories", "kind": "doublestar",
                         "decorations": ["repoMatches", "repoExcludes"]}],
    "tag_selectors": [{"display_text": "Tags", "kind": "doublestar", "decorations": ["matches", "excludes"]}],
}
DONE = ("Success", "Error", "Stopped")
NEWEST_FIRST = True  # Harbor lists the executions newest first; tests may turn it off
# second, minute, hour, day of month, month, day of week
CRON_RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def state(fake):
    """The fake's retention state, made on first use (tests may set retention_statuses before)."""
    fake.__dict__.setdefault("retentions", {})
    fake.__dict__.setdefault("retention_executions", {})
    fake.__dict__.setdefault("retention_statuses", ["Running", "Success"])
    return fake


def project_by_id(fake, project_id):
    return next((p for p in fake.projects.values() if p["project_id"] == project_id), None)


def selector(raw):
    raw = raw if isinstance(raw, dict) else {}
    return {"kind": raw.get("kind") or "", "decoration": raw.get("decoration") or "",
            "pattern": raw.get("pattern") or "", "extras": raw.get("extras") or ""}


def stored_rule(raw):
    """A rule as Harbor stores it (Go's struct: every field present)."""
    raw = raw if isinstance(raw, dict) else {}
    return {"id": raw.get("id") or 0, "priority": raw.get("priority") or 0, "disabled": bool(raw.get("disabled")),
            "action": raw.get("action") or "", "template": raw.get("template") or "",
            "params": raw.get("params"),
            "tag_selectors": [selector(s) for s in raw.get("tag_selectors") or []] or None,
            "scope_selectors": {k: [selector(s) for s in v or []] for k, v in (raw.get("scope_selectors") or {}).items()}
            or None}


def cron_problem(cron):
    """Why Harbor's cron parser (6 fields, seconds 0) refuses `cron`, or None."""
    fields = cron.split()
    if len(fields) != 6:
        return "expected exactly 6 fields, found %d: [%s]" % (len(fields), cron)
    for text, (low, high) in zip(fields, CRON_RANGES):
        for part in text.split(","):
            base, _, step = part.partition("/")
            if step and not step.isdigit():
                return "failed to parse int from %s" % step
            if base in ("*", "?"):
                continue
            for number in base.split("-", 1):
                if not number.isdigit():
                    return "failed to parse int from %s" % number
                if not low <= int(number) <= high:
                    return "end of range (%s) above maximum (%d): %s" % (number, high, part) if int(number) > high \
                        else "beginning of range (%s) below minimum (%d): %s" % (number, low, part)
    if cron.split(" ")[0] != "0":
        return "the 1st field (indicating Seconds of time) of the cron setting must be 0"
    return None


def checked_policy(fake, body):
    """The checks of Harbor's create and update handlers that do not depend on the policy's id."""
    if not isinstance(body, dict):
        raise error(400, "BAD_REQUEST", "policy in body is required")
    rules = body.get("rules") or []
    if len(rules) > MAX_RULES:
        raise error(400, "BAD_REQUEST", "only 15 rules are allowed at most")
    seen = {}
    for number, rule in enumerate(rules):
        key = json.dumps(dict(stored_rule(rule), id=0), sort_keys=True)
        if key in seen:
            raise error(409, "CONFLICT", "rule %d is conflict with rule %d" % (number, seen[key]))
        seen[key] = number
    scope = body.get("scope") or {}
    if scope.get("level") != "project":
        raise error(400, "BAD_REQUEST", "scope %s is not support" % (scope.get("level") or ""))
    ref = scope.get("ref")
    if not isinstance(ref, int) or ref <= 0 or project_by_id(fake, ref) is None:
        raise error(400, "BAD_REQUEST", "invalid Project id %s" % ref)
    return body


def check_cron(body):
    trigger = body.get("trigger") or {}
    cron = (trigger.get("settings") or {}).get("cron")
    if trigger.get("kind") == "Schedule" and cron:
        problem = cron_problem(cron)
        if problem:
            raise error(400, "BAD_REQUEST", "invalid cron string for scheduled tag retention: %s, error: %s"
                        % (cron, problem))


def stored_policy(body):
    """The policy as Harbor keeps it (its trigger has a kind and settings: Harbor drops "references")."""
    trigger = body.get("trigger") or {}
    return {"algorithm": body.get("algorithm") or "", "rules": [stored_rule(r) for r in body.get("rules") or []],
            "trigger": {"kind": trigger.get("kind") or "", "settings": trigger.get("settings")},
            "scope": {"level": "project", "ref": body["scope"]["ref"]}}


def fields(obj):
    """A swagger model's fields without the empty ones (go-swagger's omitempty: false, 0, "", null, [] and {})."""
    return {k: v for k, v in obj.items() if v not in (None, "", 0, False, [], {})}


def policy_out(policy_id, policy):
    """GET /retentions/{id}: the stored policy through Harbor's swagger model."""
    rules = []
    for rule in policy["rules"]:
        out = dict(rule, tag_selectors=[fields(s) for s in rule.get("tag_selectors") or []],
                   scope_selectors={k: [fields(s) for s in v] for k, v in (rule.get("scope_selectors") or {}).items()})
        rules.append(fields(out))
    return json.loads(json.dumps(fields({"id": policy_id, "algorithm": policy["algorithm"], "rules": rules,
                                         "trigger": fields(dict(policy["trigger"])),
                                         "scope": fields(dict(policy["scope"]))})))


def add_policy(fake, project, rules=(), cron="", kind="Schedule"):
    """A policy of `project` as if made through the API (rules in Harbor's form); returns its id."""
    state(fake)
    target = fake.projects[project]
    policy_id = next(fake._ids)  # pylint: disable=protected-access
    fake.retentions[policy_id] = stored_policy({
        "algorithm": "or", "rules": list(rules), "trigger": {"kind": kind, "settings": {"cron": cron}},
        "scope": {"level": "project", "ref": target["project_id"]}})
    target["metadata"]["retention_id"] = str(policy_id)
    return policy_id


def find(fake, key, status=500):
    """The stored policy `key`; Harbor's GET answers 500 for a missing one, its other handlers 400."""
    policy = fake.retentions.get(int(key))
    if policy is None:
        if status == 500:
            raise error(500, "UNKNOWN", "internal server error")
        raise error(400, "BAD_REQUEST", "no such Retention policy with id %s" % key)
    return policy


def create(fake, body):
    body = checked_policy(fake, body)
    project = project_by_id(fake, body["scope"]["ref"])
    old = project["metadata"].get("retention_id")
    if old:
        raise error(400, "BAD_REQUEST", "project %s already has retention policy %s" % (project["project_id"], old))
    check_cron(body)
    policy_id = next(fake._ids)  # pylint: disable=protected-access
    fake.retentions[policy_id] = stored_policy(body)
    project["metadata"]["retention_id"] = str(policy_id)
    return Answer(201, None, {"Location": "%s/retentions/%d" % (PREFIX, policy_id)})


def update(fake, key, body):
    body = checked_policy(fake, body)
    project = project_by_id(fake, body["scope"]["ref"])
    if project["metadata"].get("retention_id") != key:
        raise error(404, "NOT_FOUND", "the retention policy id %s does not match" % key)
    check_cron(body)
    find(fake, key)
    fake.retentions[int(key)] = stored_policy(body)
    return Answer(200)


def delete(fake, key):
    policy = find(fake, key, status=400)
    del fake.retentions[int(key)]
    for execution_id in [e["id"] for e in fake.retention_executions.values() if e["policy_id"] == int(key)]:
        del fake.retention_executions[execution_id]
    project = project_by_id(fake, policy["scope"]["ref"])
    if project is not None:
        project["metadata"].pop("retention_id", None)
    return Answer(200)


def execution_out(execution):
    return fields({k: v for k, v in execution.items() if k != "statuses"})


def trigger(fake, key, body):
    find(fake, key, status=400)
    if not isinstance(body, dict):
        raise error(400, "BAD_REQUEST", "body in body is required")
    execution_id = next(fake._ids)  # pylint: disable=protected-access
    statuses = list(fake.retention_statuses)
    fake.retention_executions[execution_id] = {
        "id": execution_id, "policy_id": int(key), "start_time": now(), "end_time": "0001-01-01T00:00:00Z",
        "status": statuses[0], "trigger": "MANUAL", "dry_run": bool(body.get("dry_run")), "statuses": statuses}
    return Answer(201, None, {"Location": "%s/retentions/%s/executions/%d" % (PREFIX, key, execution_id)})


def list_executions(fake, key, query):
    find(fake, key, status=400)
    mine = sorted((e for e in fake.retention_executions.values() if e["policy_id"] == int(key)),
                  key=lambda e: -e["id"] if NEWEST_FIRST else e["id"])
    for execution in mine:  # each listing shows the next status
        execution["status"] = execution["statuses"][0]
        if len(execution["statuses"]) > 1:
            execution["statuses"].pop(0)
        if execution["status"] in DONE and execution["end_time"].startswith("0001"):
            execution["end_time"] = now()
    answer = fake.list_of(mine, query, lambda e: True)
    answer.body = [execution_out(e) for e in answer.body]
    return answer


def stop(fake, key, execution_key, body):
    if (body or {}).get("action") != "stop":
        raise error(400, "BAD_REQUEST", "action should be 'stop'")
    policy = find(fake, key, status=400)
    execution = fake.retention_executions.get(int(execution_key)) if execution_key.isdigit() else None
    if execution is None or execution["policy_id"] != int(key):
        raise error(404, "NOT_FOUND", "project: %s, execution id %s not found" % (policy["scope"]["ref"],
                                                                                 execution_key))
    if execution["statuses"][0] not in DONE:
        execution["statuses"] = ["Stopped"]
        execution["status"] = "Stopped"
        execution["end_time"] = now()
    return Answer(200)


def route(fake, method, parts, query, body):
    state(fake)
    rest = parts[1:]
    if rest == ["metadatas"]:
        if method != "GET":
            raise error(405, "METHOD_NOT_ALLOWED", "method %s is not allowed, but [GET] are" % method)
        return Answer(200, json.loads(json.dumps(METADATA)))
    if not rest:
        if method != "POST":
            raise error(405, "METHOD_NOT_ALLOWED", "method %s is not allowed, but [POST] are" % method)
        return create(fake, body)
    key = rest[0]
    if not re.fullmatch(r"[0-9]+", key):
        raise error(400, "BAD_REQUEST", 'id in path must be of type int64: "%s"' % key)
    if len(rest) == 1:
        if method == "GET":
            return Answer(200, policy_out(int(key), find(fake, key)))
        if method == "PUT":
            return update(fake, key, body)
        if method == "DELETE":
            return delete(fake, key)
        raise error(405, "METHOD_NOT_ALLOWED", "method %s is not allowed, but [DELETE GET PUT] are" % method)
    if rest[1] == "executions" and len(rest) == 2:
        if method == "POST":
            return trigger(fake, key, body)
        if method == "GET":
            return list_executions(fake, key, query)
        raise error(405, "METHOD_NOT_ALLOWED", "method %s is not allowed, but [GET POST] are" % method)
    if rest[1] == "executions" and len(rest) == 3:
        if method == "PATCH":
            return stop(fake, key, rest[2], body)
        raise error(405, "METHOD_NOT_ALLOWED", "method %s is not allowed, but [PATCH] are" % method)
    if rest[1] == "executions" and len(rest) == 4 and rest[3] == "tasks" and method == "GET":
        find(fake, key, status=400)
        return fake.list_of([], query, lambda t: True)  # the fake deletes nothing: no tasks
    raise error(404, "NOT_FOUND", "%s /retentions/%s is not part of the fake" % (method, "/".join(rest)))
