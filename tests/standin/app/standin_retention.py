"""Tag retention of the stand-in harbor-core (core.py's api_route calls route() for /retentions and below).

Follows Harbor v2.15.2's retention handler and controller. A project has at most one policy, its id in the
project's metadata retention_id (set when the policy is created, removed when it is deleted, in the
project_metadata table as core keeps project metadata). Bodies are checked against the swagger (RetentionPolicy,
the inline bodies of executions), then Harbor's rules with Harbor's wording:
- POST/PUT: at most 15 rules (400 "only 15 rules are allowed at most"), two identical rules (ids aside) 409
  "rule N is conflict with rule M", the scope a project that exists (400 "invalid Project id N", "scope X is not
  support"), POST on a project that has a policy 400 "project N already has retention policy M", PUT of a policy
  the project does not name 404 "the retention policy id N does not match", a Schedule trigger's cron of six fields
  whose seconds are 0 (400 "invalid cron string for scheduled tag retention: ...").
- STRICTER than Harbor: the rule templates and their parameters are checked at once (400 "rule evaluator X is not
  registered", "missing required parameter X for rule X", "X is less than zero", "X is too large", "X type error":
  the wording of Harbor's rule index); Harbor's API stores such a policy and only its runs fail.
- GET of a policy that does not exist answers 500 "internal server error", as Harbor does; DELETE, runs and listings
  of one answer 400 "no such Retention policy with id N".
A policy is stored as Harbor stores it (every rule and selector field present, the trigger without "references")
and answered through the swagger model as Harbor does (with its id; empty fields left out, so a rule that is not
disabled has no "disabled", a selector without extras no "extras"); the trigger's settings get no
next_scheduled_time (no schedule fires here).

Executions are SIMULATED: nothing is deleted, no rule is evaluated. POST .../executions {"dry_run"} answers 201 +
Location; the execution is Running for EXECUTION_DONE seconds, then Success (at once when the policy has no enabled
rule, as Harbor marks an execution without candidates done), trigger MANUAL. GET .../executions lists them newest
first with pages; PATCH .../executions/{eid} {"action": "stop"} stops one (Stopped); .../tasks is always empty and
a task log is 404. Harbor has no GET of one execution: the stand-in answers 405 too. Deleting a policy deletes its
executions.

Storage: the properties table, retention:policy:<id> (sequence retention) and retention:execution:<id> (sequence
retention_execution). For core.py: delete_for_project() is what Harbor does when a project is deleted, and
proxy_cache_default() the policy Harbor gives a new proxy cache project.
"""
import json
import re
import time

EXECUTION_DONE = 3.0  # seconds Running before Success
POLICY = "retention:policy:"
EXECUTION = "retention:execution:"
ZERO_TIME = "0001-01-01T00:00:00.000Z"  # Go's zero time.Time, as Harbor prints an unset time
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
# Harbor's rule index: template -> (its required parameter or None, the largest value its validator accepts or None)
REGISTERED = {"latestPushedK": ("latestPushedK", 32766), "latestPulledN": ("latestPulledN", 32766),
              "latestActiveK": ("latestActiveK", None), "lastXDays": ("lastXDays", None), "always": (None, None),
              "nDaysSinceLastPull": ("nDaysSinceLastPull", 20190904),
              "nDaysSinceLastPush": ("nDaysSinceLastPush", 20190904)}
# second, minute, hour, day of month, month, day of week (robfig/cron's bounds; names are not read here)
CRON_RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def not_allowed(core, allowed):
    return core.ApiError(405, "METHOD_NOT_ALLOWED", f"method not allowed, but [{allowed}] are")


def path_id(name, text):
    """A path parameter of type int64, as go-swagger reads it."""
    if not re.fullmatch(r"[0-9]+", text or ""):
        raise ValueError(f'{name} in path must be of type int64: "{text}"')
    return int(text)


def route(handler, core, user, method, path, body, query):
    if not user:
        raise core.ApiError(401, "UNAUTHORIZED", "unauthorized")
    parts = path.strip("/").split("/")[1:]
    if parts == ["metadatas"]:
        if method != "GET":
            raise not_allowed(core, "GET")
        return handler.send_json(200, METADATA)
    handler.need_admin(user)  # Harbor: the project's developers and up; the stand-in has admin only
    if not parts:
        if method != "POST":
            raise not_allowed(core, "POST")
        return create(handler, core, user, body)
    try:
        rid = path_id("id", parts[0])
        eid = path_id("eid", parts[2]) if len(parts) > 2 else None
        if len(parts) > 4:
            path_id("tid", parts[4])
    except ValueError as exc:
        raise core.bad_request(str(exc)) from None
    if len(parts) == 1:
        if method == "GET":
            return handler.send_json(200, policy_json(rid, stored(core, rid, missing=500)))
        if method == "PUT":
            return update(handler, core, user, rid, body)
        if method == "DELETE":
            return delete(handler, core, user, rid)
        raise not_allowed(core, "DELETE GET PUT")
    if parts[1] != "executions" or len(parts) > 5 or (len(parts) >= 4 and parts[3] != "tasks"):
        raise core.not_found(f"{path} not found")
    if len(parts) == 2:
        if method == "POST":
            return start(handler, core, rid, body)
        if method == "GET":
            return list_executions(handler, core, rid, query, path)
        raise not_allowed(core, "GET POST")
    if len(parts) == 3:
        if method == "PATCH":
            return stop(handler, core, rid, eid, body)
        raise not_allowed(core, "PATCH")  # no GET of one execution in Harbor's API
    if method != "GET":
        raise not_allowed(core, "GET")
    policy = stored(core, rid)
    execution_of(core, policy, rid, eid)
    if len(parts) == 4:
        return handler.send_page([], query, path)  # nothing is evaluated: no task
    raise core.not_found(f"task {parts[4]} not found")


# ---------------------------------------------------------------- storage

def stored(core, rid, missing=400):
    policy = core.prop_get(f"{POLICY}{rid}")
    if policy is None:
        if missing == 500:  # Harbor's GET: a plain error from its manager, so a 500
            raise core.ApiError(500, "UNKNOWN", "internal server error")
        raise core.bad_request(f"no such Retention policy with id {rid}")
    return policy


def project_by_id(core, pid):
    return core.DB.q("SELECT project_id, name FROM project WHERE project_id=%s AND NOT deleted", (pid,), "one")


def retention_id_of(core, pid):
    row = core.DB.q("SELECT value FROM project_metadata WHERE project_id=%s AND name='retention_id'", (pid,), "one")
    return row[0] if row and row[0] else None


def set_retention_id(core, pid, rid):
    core.DB.q("INSERT INTO project_metadata (project_id, name, value) VALUES (%s, 'retention_id', %s) "
              "ON CONFLICT (project_id, name) DO UPDATE SET value=EXCLUDED.value", (pid, str(rid)), None)


def clear_retention_id(core, pid):
    core.DB.q("DELETE FROM project_metadata WHERE project_id=%s AND name='retention_id'", (pid,), None)


def selector(raw):
    raw = raw if isinstance(raw, dict) else {}
    return {"kind": raw.get("kind") or "", "decoration": raw.get("decoration") or "",
            "pattern": raw.get("pattern") or "", "extras": raw.get("extras") or ""}


def stored_rule(raw):
    """A rule as Harbor stores it (Go's struct: every field present, null for an empty map or list)."""
    return {"id": raw.get("id") or 0, "priority": raw.get("priority") or 0, "disabled": bool(raw.get("disabled")),
            "action": raw.get("action") or "", "template": raw.get("template") or "", "params": raw.get("params"),
            "tag_selectors": [selector(s) for s in raw.get("tag_selectors") or []] or None,
            "scope_selectors": {k: [selector(s) for s in v or []]
                                for k, v in (raw.get("scope_selectors") or {}).items()} or None}


def stored_policy(req):
    """The policy as Harbor keeps it (its trigger has a kind and settings: Harbor drops "references")."""
    trigger = req.get("trigger") or {}
    return {"algorithm": req.get("algorithm") or "", "rules": [stored_rule(r or {}) for r in req.get("rules") or []],
            "trigger": {"kind": trigger.get("kind") or "", "settings": trigger.get("settings")},
            "scope": {"level": req["scope"]["level"], "ref": req["scope"]["ref"]}}


def fields(obj):
    """A swagger model's fields without the empty ones (go-swagger's omitempty: false, 0, "", null, [] and {})."""
    return {k: v for k, v in obj.items() if v not in (None, "", 0, False, [], {})}


def policy_json(rid, policy):
    """GET /retentions/{id}: the stored policy through Harbor's swagger model."""
    rules = []
    for rule in policy.get("rules") or []:
        out = dict(rule, tag_selectors=[fields(s) for s in rule.get("tag_selectors") or []],
                   scope_selectors={k: [fields(s) for s in v] for k, v in (rule.get("scope_selectors") or {}).items()})
        rules.append(fields(out))
    return fields({"id": rid, "algorithm": policy.get("algorithm"), "rules": rules,
                   "trigger": fields(dict(policy.get("trigger") or {})), "scope": fields(dict(policy["scope"]))})


# ---------------------------------------------------------------- checks

def cron_problem(cron):
    """Why Harbor's cron check (robfig/cron with seconds, then seconds must be 0) refuses `cron`, or None."""
    fields = cron.split()
    if len(fields) != 6:
        return f"expected exactly 6 fields, found {len(fields)}: [{cron}]"
    for text, (low, high) in zip(fields, CRON_RANGES):
        for part in text.split(","):
            base, _, step = part.partition("/")
            if step and not step.isdigit():
                return f"failed to parse int from {step}: strconv.Atoi: parsing {step!r}: invalid syntax"
            if base in ("*", "?"):
                continue
            for number in base.split("-", 1):
                if not number.isdigit():
                    return f"failed to parse int from {number}: strconv.Atoi: parsing {number!r}: invalid syntax"
                if int(number) > high:
                    return f"end of range ({number}) above maximum ({high}): {part}"
                if int(number) < low:
                    return f"beginning of range ({number}) below minimum ({low}): {part}"
    if cron.split(" ")[0] != "0":
        return "the 1st field (indicating Seconds of time) of the cron setting must be 0"
    return None


def template_problem(rule):
    """Harbor's rule index check of a rule's template and parameters (run by Harbor only when the policy runs)."""
    template = rule.get("template") or ""
    if not template:
        return "empty rule template ID"
    if template not in REGISTERED:
        return f"rule evaluator {template} is not registered"
    param, largest = REGISTERED[template]
    params = rule.get("params") or {}
    if param is None:
        return None
    if param not in params:
        return f"missing required parameter {param} for rule {template}"
    value = params[param]
    if largest is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{param} type error"
    if value < 0:
        return f"{param} is less than zero"
    if int(value) > largest:
        return f"{param} is too large"
    return None


def checked(handler, core, body, swagger_path, method):
    """The checks Harbor's create and update handlers share (before the ones of each)."""
    req = handler.checked(body, swagger_path, method) or {}
    rules = req.get("rules") or []
    if len(rules) > MAX_RULES:
        raise core.bad_request("only 15 rules are allowed at most")
    seen = {}
    for number, rule in enumerate(rules):
        key = json.dumps(dict(stored_rule(rule or {}), id=0), sort_keys=True)
        if key in seen:
            raise core.ApiError(409, "CONFLICT", f"rule {number} is conflict with rule {seen[key]}")
        seen[key] = number
    scope = req.get("scope") or {}
    if scope.get("level") != "project":
        raise core.bad_request(f"scope {scope.get('level') or ''} is not support")
    ref = scope.get("ref") or 0
    if ref <= 0 or not project_by_id(core, ref):
        raise core.bad_request(f"invalid Project id {ref}")
    if not isinstance(req.get("trigger"), dict):
        raise core.bad_request("trigger in body is required")  # Harbor: a nil pointer, 500
    return req


def checked_settings(core, req):
    """What Harbor's controller checks before it saves (the cron), and the stand-in's template check."""
    trigger = req["trigger"]
    cron = (trigger.get("settings") or {}).get("cron") if isinstance(trigger.get("settings"), dict) else None
    if trigger.get("kind") == "Schedule" and cron is not None:
        if not isinstance(cron, str):
            raise core.bad_request("invalid cron type for scheduled tag retention: must be a string")
        problem = cron_problem(cron) if cron else None
        if problem:
            raise core.bad_request(f"invalid cron string for scheduled tag retention: {cron}, error: {problem}")
    for rule in req.get("rules") or []:
        problem = template_problem(rule or {})
        if problem:
            raise core.bad_request(problem)


# ---------------------------------------------------------------- policies

def create(handler, core, user, body):
    req = checked(handler, core, body, "/retentions", "POST")
    pid = req["scope"]["ref"]
    old = retention_id_of(core, pid)
    if old:
        raise core.bad_request(f"project {pid} already has retention policy {old}")
    checked_settings(core, req)
    rid = core.next_id("retention")
    core.prop_put(f"{POLICY}{rid}", stored_policy(req))
    set_retention_id(core, pid, rid)
    core.audit(user, "create", "retention", str(rid))
    return handler.send_json(201, None, {"Location": f"/api/v2.0/retentions/{rid}"})


def update(handler, core, user, rid, body):
    req = checked(handler, core, body, "/retentions/{id}", "PUT")
    if retention_id_of(core, req["scope"]["ref"]) != str(rid):
        raise core.not_found(f"the retention policy id {rid} does not match")
    checked_settings(core, req)
    stored(core, rid, missing=500)
    core.prop_put(f"{POLICY}{rid}", stored_policy(req))
    core.audit(user, "update", "retention", str(rid))
    return handler.send_json(200, None)


def delete(handler, core, user, rid):
    policy = stored(core, rid)
    for key, execution in core.prop_list(EXECUTION).items():
        if execution.get("policy_id") == rid:
            core.prop_del(key)
    core.prop_del(f"{POLICY}{rid}")
    clear_retention_id(core, policy["scope"]["ref"])
    core.audit(user, "delete", "retention", str(rid))
    return handler.send_json(200, None)


def delete_for_project(core, pid):
    """What Harbor does when a project is deleted: its policies and their executions go (call before the project's
    metadata rows go, or after: the metadata is not needed)."""
    for key, policy in core.prop_list(POLICY).items():
        if (policy.get("scope") or {}).get("ref") == pid:
            rid = int(key[len(POLICY):])
            for ekey, execution in core.prop_list(EXECUTION).items():
                if execution.get("policy_id") == rid:
                    core.prop_del(ekey)
            core.prop_del(key)


def proxy_cache_default(core, pid):
    """The policy Harbor gives a new proxy cache project (retain what was pulled within 7 days, daily at midnight);
    returns its id, also set as the project's retention_id."""
    rid = core.next_id("retention")
    selectors = {"tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
                 "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches",
                                                      "pattern": "**"}]}}
    core.prop_put(f"{POLICY}{rid}", stored_policy({
        "algorithm": "or",
        "rules": [dict(selectors, id=1, priority=1, action="retain", template="nDaysSinceLastPull",
                       params={"nDaysSinceLastPull": 7})],
        "trigger": {"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}},
        "scope": {"level": "project", "ref": pid}}))
    set_retention_id(core, pid, rid)
    return rid


# ---------------------------------------------------------------- executions (simulated)

def status_of(execution):
    if execution.get("stopped"):
        return "Stopped"
    if execution.get("instant") or time.time() - execution["created"] >= EXECUTION_DONE:
        return "Success"
    return "Running"


def execution_json(core, eid, execution):
    status = status_of(execution)
    end = None
    if status == "Stopped":
        end = execution["stopped"]
    elif status == "Success":
        end = execution["created"] + (0 if execution.get("instant") else EXECUTION_DONE)
    return fields({"id": eid, "policy_id": execution["policy_id"], "start_time": core.iso(execution["created"]),
                   "end_time": core.iso(end) if end is not None else ZERO_TIME, "status": status,
                   "trigger": execution.get("trigger", "MANUAL"), "dry_run": bool(execution.get("dry_run"))})


def execution_of(core, policy, rid, eid):
    execution = core.prop_get(f"{EXECUTION}{eid}")
    if not execution or execution.get("policy_id") != rid:
        raise core.not_found(f"project: {policy['scope']['ref']}, execution id {eid} not found")
    return execution


def start(handler, core, rid, body):
    policy = stored(core, rid)
    req = handler.checked(body, "/retentions/{id}/executions", "POST") or {}
    eid = core.next_id("retention_execution")
    enabled = [r for r in policy.get("rules") or [] if not r.get("disabled")]
    core.prop_put(f"{EXECUTION}{eid}", {"policy_id": rid, "created": time.time(), "dry_run": bool(req.get("dry_run")),
                                        "trigger": "MANUAL", "instant": not enabled})
    core.log(f"retention execution {eid} of policy {rid} (simulated: Running, Success in "
             f"{0 if not enabled else EXECUTION_DONE:.0f} s, nothing deleted)")
    return handler.send_json(201, None, {"Location": f"/api/v2.0/retentions/{rid}/executions/{eid}"})


def list_executions(handler, core, rid, query, path):
    stored(core, rid)
    mine = [(int(k[len(EXECUTION):]), e) for k, e in core.prop_list(EXECUTION).items() if e.get("policy_id") == rid]
    mine.sort(key=lambda item: (-item[1]["created"], -item[0]))
    return handler.send_page([execution_json(core, eid, e) for eid, e in mine], query, path)


def stop(handler, core, rid, eid, body):
    req = handler.checked(body, "/retentions/{id}/executions/{eid}", "PATCH") or {}
    if req.get("action") != "stop":
        raise core.bad_request("action should be 'stop'")
    policy = stored(core, rid)
    if retention_id_of(core, policy["scope"]["ref"]) != str(rid):
        raise core.not_found(f"the retention policy id {rid} does not match")
    execution = execution_of(core, policy, rid, eid)
    if status_of(execution) == "Running":
        execution["stopped"] = time.time()
        core.prop_put(f"{EXECUTION}{eid}", execution)
    return handler.send_json(200, None)
