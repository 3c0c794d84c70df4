"""Replication policies and executions of the stand-in harbor-core (core.py's api_route calls route()).

Follows Harbor v2.15.2's replication handler and controller: bodies are checked against the swagger
(ReplicationPolicy, StartReplicationExecution), then Harbor's own rules with Harbor's wording: a name
("empty name"), exactly one of src_registry/dest_registry not this Harbor (id 0 or none is this Harbor),
filters (name/tag/resource a string, resource image or artifact, label a list of strings, a decoration only for
tag and label, matches or excludes), the destination namespace (a repository path), the trigger (manual,
scheduled with a 6 field cron whose seconds are 0 and minutes not *, event_based); registries that do not exist
answer 404 and a taken name 409. POST and PUT take the whole policy: what a PUT leaves out is reset
(copy_by_chunk false, speed 0, dest_namespace_replace_count -1); a negative speed is stored as 0; deletion is read
from the deprecated "deletion" field, as Harbor's handler does, and shown in both "deletion" and
"replicate_deletion". GET shows both registries, this Harbor as "Local" (id 0).

Executions are SIMULATED: nothing is copied. POST /replication/executions {policy_id} (404 for an unknown policy,
412 for a disabled one) answers 201 + Location; the execution is InProgress for EXECUTION_DONE seconds, then
Succeed ("no resources need to be replicated", every count 0), trigger manual. PUT .../executions/{id} stops one
(Stopped); .../tasks is always empty. Deleting a policy while one of its executions is InProgress answers 412, as
Harbor; otherwise its executions go with it. A trigger is stored and shown but never fires.

Storage: the properties table, replication:policy:<id> (sequence replication_policy) and
replication:execution:<id> (sequence replication_execution).
"""
import re
import time

EXECUTION_DONE = 3.0  # seconds InProgress before Succeed
POLICY = "replication:policy:"
EXECUTION = "replication:execution:"
ZERO_TIME = "0001-01-01T00:00:00.000Z"  # Go's zero time.Time, as Harbor prints an unset time
LOCAL = {"id": 0, "name": "Local", "type": "harbor", "url": "http://core:8080", "description": "", "insecure": True,
         "status": "healthy", "credential": {"type": "secret", "access_key": "", "access_secret": "*****"},
         "creation_time": ZERO_TIME, "update_time": ZERO_TIME}
TRIGGERS = ("manual", "scheduled", "event_based")
# docker/distribution's repository name (path components), which Harbor checks dest_namespace with
COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*"
NAMESPACE_RE = re.compile(rf"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{COMPONENT}(?:/{COMPONENT})*$")


def route(handler, core, user, method, path, body, query):
    handler.need_admin(user)
    if path == "/replication/policies":
        if method == "GET":
            return list_policies(handler, core, query)
        if method == "POST":
            return save_policy(handler, core, user, None, body)
        raise not_allowed(core)
    m = re.match(r"^/replication/policies/(\d+)$", path)
    if m:
        pid = int(m.group(1))
        if method == "GET":
            return handler.send_json(200, policy_json(handler, core, pid, stored_policy(core, pid)))
        if method == "PUT":
            return save_policy(handler, core, user, pid, body)
        if method == "DELETE":
            return delete_policy(handler, core, pid)
        raise not_allowed(core)
    if path == "/replication/executions":
        if method == "GET":
            return list_executions(handler, core, query)
        if method == "POST":
            return start(handler, core, body)
        raise not_allowed(core)
    m = re.match(r"^/replication/executions/(\d+)(/tasks)?$", path)
    if m and m.group(2):
        if method != "GET":
            raise not_allowed(core)
        return handler.send_page([], query, path)  # nothing is copied: no tasks (Harbor: [] for any id)
    if m:
        eid = int(m.group(1))
        execution = core.prop_get(f"{EXECUTION}{eid}")
        if not execution:
            raise core.not_found(f"execution {eid} not found")
        if method == "GET":
            return handler.send_json(200, execution_json(core, eid, execution))
        if method == "PUT":  # stop
            if status(execution) == "InProgress":
                execution["stopped"] = time.time()
                core.prop_put(f"{EXECUTION}{eid}", execution)
            return handler.send_json(200, None)
        raise not_allowed(core)
    raise core.not_found(f"{path} not found")


def not_allowed(core):
    return core.ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed")


def registry_users(core, rid):
    """The names of the policies that use registry endpoint `rid` (Harbor refuses to delete it then, 412 "the
    registry <id> is referenced by replication policies, cannot delete it")."""
    return [p["name"] for p in core.prop_list(POLICY).values() if rid in (p["src_registry_id"], p["dest_registry_id"])]


# ---------------------------------------------------------------- policies
def stored_policy(core, pid):
    policy = core.prop_get(f"{POLICY}{pid}")
    if not policy:
        raise core.not_found(f"replication policy {pid} not found")
    return policy


def registry_json(handler, core, rid):
    if not rid:
        return dict(LOCAL)
    reg = core.prop_get(f"registry:{rid}")
    return handler.registry_json(reg) if reg else {"id": rid}


def policy_json(handler, core, pid, p):
    out = {"id": pid, "name": p["name"], "description": p["description"],
           "src_registry": registry_json(handler, core, p["src_registry_id"]),
           "dest_registry": registry_json(handler, core, p["dest_registry_id"]),
           "dest_namespace": p["dest_namespace"], "dest_namespace_replace_count": p["dest_namespace_replace_count"],
           "deletion": p["deletion"], "replicate_deletion": p["deletion"], "override": p["override"],
           "enabled": p["enabled"], "speed": p["speed"], "copy_by_chunk": p["copy_by_chunk"],
           "single_active_replication": p["single_active_replication"],
           "creation_time": p["creation_time"], "update_time": p["update_time"]}
    if p.get("filters"):
        out["filters"] = p["filters"]
    if p.get("trigger"):
        out["trigger"] = p["trigger"]
    return out


def list_policies(handler, core, query):
    items = [(int(k[len(POLICY):]), p) for k, p in core.prop_list(POLICY).items()]
    if "name" in query:  # deprecated ?name=: a fuzzy match
        items = [(pid, p) for pid, p in items if query["name"][0] in p["name"]]
    for key, cond in core.parse_q(query).items():
        if key in ("name", "description"):
            items = [(pid, p) for pid, p in items if core.q_match(cond, p[key])]
        elif key == "id":
            items = [(pid, p) for pid, p in items if core.q_match(cond, pid)]
    return handler.send_page([policy_json(handler, core, pid, p) for pid, p in items], query,
                             "/replication/policies")


def checked_filters(core, filters):
    out = []
    for item in filters or []:
        item = item or {}
        kind, value, decoration = item.get("type"), item.get("value"), item.get("decoration") or ""
        if kind in ("name", "tag", "resource"):
            if not isinstance(value, str):
                raise core.bad_request("the type of filter value isn't string")
            if kind == "resource" and value not in ("artifact", "image"):
                raise core.bad_request(f"invalid resource filter: {value}")
            if kind != "tag" and decoration:
                raise core.bad_request("only tag and label filter support decoration")
        elif kind == "label":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise core.bad_request("the type of label filter value isn't string slice")
        else:
            raise core.bad_request("invalid filter type")
        if decoration not in ("", "matches", "excludes"):
            raise core.bad_request(f"invalid filter decoration, :{decoration}")
        stored = {"type": kind, "value": value}
        if decoration:
            stored["decoration"] = decoration
        out.append(stored)
    return out


def checked_trigger(core, trigger):
    if trigger is None:
        return None
    kind = trigger.get("type") or ""
    cron = (trigger.get("trigger_settings") or {}).get("cron") or ""
    if kind not in TRIGGERS:
        raise core.bad_request("invalid trigger type")
    if kind == "scheduled":
        if not cron:
            raise core.bad_request("the cron string cannot be empty when the trigger type is scheduled")
        try:
            core.check_cron(cron)
        except core.ApiError:
            raise core.bad_request(f"invalid cron string for scheduled trigger: {cron}") from None
        fields = cron.split()
        if fields[0] != "0":
            raise core.bad_request("the 1st field (indicating Seconds of time) of the cron setting must be 0")
        if fields[1] == "*":
            raise core.bad_request("* is not allowed for the Minutes field of the cron setting of replication policy")
    return {"type": kind, "trigger_settings": {"cron": cron}}


def registry_id(side):
    rid = (side or {}).get("id")
    return rid if isinstance(rid, int) else 0


def save_policy(handler, core, user, pid, body):
    """POST (pid None) or PUT of the whole policy, checked as Harbor's handler and controller do."""
    method = "POST" if pid is None else "PUT"
    req = handler.checked(body, "/replication/policies" if pid is None else "/replication/policies/{id}",
                          method) or {}
    count = req.get("dest_namespace_replace_count")
    if count is not None and not -128 <= count <= 127:
        raise core.bad_request(f'parsing policy body from "" failed, because json: cannot unmarshal number {count} '
                               "into Go struct field ReplicationPolicy.dest_namespace_replace_count of type int8")
    name = req.get("name") or ""
    if not name:
        raise core.bad_request("empty name")
    src, dest = registry_id(req.get("src_registry")), registry_id(req.get("dest_registry"))
    if bool(src) == bool(dest):
        raise core.bad_request("either src_registry or dest_registry should be empty and the other one shouldn't "
                               "be empty")
    filters = checked_filters(core, req.get("filters"))
    namespace = req.get("dest_namespace") or ""
    if namespace and not NAMESPACE_RE.match(namespace):
        raise core.bad_request(f"invalid destination namespace: {namespace}")
    trigger = checked_trigger(core, req.get("trigger"))
    for rid in (src, dest):
        if rid and not core.prop_get(f"registry:{rid}"):
            raise core.not_found(f"registry {rid} not found")
    old = stored_policy(core, pid) if pid is not None else None
    for key, other in core.prop_list(POLICY).items():
        if other["name"] == name and int(key[len(POLICY):]) != pid:
            raise core.ApiError(409, "CONFLICT", f"replication policy {name} already exists")
    speed = req.get("speed")
    stamp = core.now_iso()
    policy = {"name": name, "description": req.get("description") or "", "src_registry_id": src,
              "dest_registry_id": dest, "dest_namespace": namespace,
              "dest_namespace_replace_count": -1 if count is None else count, "filters": filters, "trigger": trigger,
              "deletion": bool(req.get("deletion")), "override": bool(req.get("override")),
              "enabled": bool(req.get("enabled")), "speed": max(speed or 0, 0),
              "copy_by_chunk": bool(req.get("copy_by_chunk")),
              "single_active_replication": bool(req.get("single_active_replication")),
              "creator": (old or {}).get("creator") or user.get("username"),
              "creation_time": (old or {}).get("creation_time") or stamp, "update_time": stamp}
    if pid is None:
        pid = core.next_id("replication_policy")
        core.prop_put(f"{POLICY}{pid}", policy)
        return handler.send_json(201, None, {"Location": f"/api/v2.0/replication/policies/{pid}"})
    core.prop_put(f"{POLICY}{pid}", policy)
    return handler.send_json(200, None)


def delete_policy(handler, core, pid):
    stored_policy(core, pid)
    mine = {int(k[len(EXECUTION):]): e for k, e in core.prop_list(EXECUTION).items() if e["policy_id"] == pid}
    if any(status(e) == "InProgress" for e in mine.values()):
        raise core.ApiError(412, "PRECONDITION", "contains executions that aren't in final status, stop the "
                            "execution first")
    for eid in mine:
        core.prop_del(f"{EXECUTION}{eid}")
    core.prop_del(f"{POLICY}{pid}")
    return handler.send_json(200, None)


# ---------------------------------------------------------------- executions (simulated)
def status(execution):
    if execution.get("stopped"):
        return "Stopped"
    return "InProgress" if time.time() - execution["created"] < EXECUTION_DONE else "Succeed"


def execution_json(core, eid, execution):
    state = status(execution)
    end = execution.get("stopped") or (execution["created"] + EXECUTION_DONE if state == "Succeed" else None)
    return {"id": eid, "policy_id": execution["policy_id"], "status": state,
            "status_text": "no resources need to be replicated" if state == "Succeed" else "",
            "trigger": execution.get("trigger", "manual"), "start_time": core.iso(execution["created"]),
            "end_time": core.iso(end) if end else ZERO_TIME,
            "total": 0, "failed": 0, "succeed": 0, "in_progress": 0, "stopped": 0}


def start(handler, core, body):
    req = handler.checked(body, "/replication/executions", "POST") or {}
    pid = req.get("policy_id") or 0
    policy = stored_policy(core, pid)
    if not policy["enabled"]:
        raise core.ApiError(412, "PRECONDITION", f"the policy {pid} is disabled")
    eid = core.next_id("replication_execution")
    core.prop_put(f"{EXECUTION}{eid}", {"policy_id": pid, "created": time.time(), "trigger": "manual"})
    core.log(f"replication execution {eid} of policy {pid} (simulated: InProgress, then Succeed in "
             f"{EXECUTION_DONE:.0f} s, nothing copied)")
    return handler.send_json(201, None, {"Location": f"/api/v2.0/replication/executions/{eid}"})


def int_query(core, query, name):
    raw = (query.get(name) or [""])[0]
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise core.bad_request(f'{name} in query must be of type int64: "{raw}"') from None


def list_executions(handler, core, query):
    pid = int_query(core, query, "policy_id")
    runs = sorted(((int(k[len(EXECUTION):]), e) for k, e in core.prop_list(EXECUTION).items()), key=lambda ie: -ie[0])
    items = [execution_json(core, eid, e) for eid, e in runs if pid is None or e["policy_id"] == pid]
    for key in ("status", "trigger"):
        wanted = (query.get(key) or [""])[0]
        if wanted:
            items = [i for i in items if i[key] == wanted]
    return handler.send_page(items, query, "/replication/executions")
