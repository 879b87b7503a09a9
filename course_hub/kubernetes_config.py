"""The course on Zero to JupyterHub (Kubernetes): KubeSpawner set up from the roster, every pod as its person's uid.

JupyterHub imports this module from the values file's ``hub.extraConfig`` (course_hub/zero-to-jupyterhub-values.yaml),
with ``setup_course.py`` and the roster beside it (``hub.extraFiles``, given with ``helm --set-file``):

    kubernetes_config.configure(c, kubernetes_config.load_course(".../roster.csv"))

What each pod gets (course_hub/README.md, "From one machine to a cluster"):

- the person's uid and own group from the roster, by the rule the single-machine setup uses (setup_course.uid_for),
  and the course's group (setup_course.course_gid) as a supplemental group; fsGroup is their own group, so the
  volumes Kubernetes hands over (the home) are theirs and nobody else's;
- the nbgrader exchange (a ReadWriteMany volume that keeps owners: NFS, CephFS) at EXCHANGE_MOUNT in every pod;
  the instructor's pod makes the course's folder there, in the modes of the single-machine exchange, before
  JupyterLab starts (an init container, as the instructor);
- the instructor's course folder (a volume of its own) in the instructor's pod only;
- JUPYTER_CONFIG_PATH of the person's role: the folders the image holds (course_hub/image/), formgrader and the
  course list for the instructor, the Assignments tab for students;
- /etc/passwd and /etc/group with its person, and in the instructor's pod everyone on the roster (ACCOUNTS);
- no service-account token; requests and limits per role; no privilege escalation, no capabilities, not root;
- only with grade_on_cluster (off by default), for the instructor, what bwrap (the grading sandbox) needs to make
  its box in a pod (GRADING_SECURITY_CONTEXT, GRADING_POD); without it, classgrade in the instructor's pod stops
  before grading anyone and says why, and the class is graded off the cluster (README).

Someone not on the roster can neither log in (allowed_users) nor start a server (the pre-spawn hook refuses).
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import setup_course as sc  # beside this file: in course_hub/, and in the hub pod (hub.extraFiles)
from tornado import web

HOME = "/home/jovyan"                       # the chart's singleuser.storage.homeMountPath
EXCHANGE_MOUNT = "/srv/nbgrader/exchange"   # c.Exchange.root in the image (course_hub/image/)
COURSE_MOUNT = f"{HOME}/{sc.COURSE_ID}"     # the instructor's course folder, as ~INSTRUCTOR/backprop-by-hand
ROLE_CONFIG = "/etc/course/jupyter"         # the image's per-role Jupyter config folders
EXCHANGE_CLAIM = "nbgrader-exchange"        # PersistentVolumeClaims made before the chart is installed (README)
COURSE_CLAIM = f"{sc.COURSE_ID}-course"
# The pod's /etc/passwd and /etc/group: the image's, and the roster's people with their uids (an init container
# writes them into this emptyDir volume).  The instructor's pod lists everyone: the course's collect accepts a
# submission only from the uid of the student it names (gradelib/grading/exchange.py, by name through pwd), and
# without these lines no student's name would be a user there and every submission would be refused.  A
# student's pod lists only that student (whoami, and no classmate's name).
ACCOUNTS = "course-accounts"
ACCOUNTS_DIR = "/srv/course-accounts"
# What bwrap needs in the instructor's container to make its box (grade_on_cluster): the container runtime's
# default seccomp profile refuses unshare(CLONE_NEWUSER) without CAP_SYS_ADMIN, its default AppArmor profile
# refuses mount(), and a /proc with the runtime's masks (/proc/keys, /proc/sys...) cannot be mounted again in a new
# user namespace ("Can't mount proc": tests/test_kubernetes.py shows it), so /proc must be unmasked, which
# Kubernetes allows only in a pod with a user namespace of its own (hostUsers: false, a beta feature: check the
# cluster's version and feature gates), whose uids the node maps to others: volumes that cannot be id-mapped (NFS)
# then show the wrong owners.  The node must also allow user namespaces (user.max_user_namespaces > 0; on Ubuntu
# 24.04 and later kernel.apparmor_restrict_unprivileged_userns=0).  Hence off by default: grade off the cluster.
GRADING_SECURITY_CONTEXT = {"seccompProfile": {"type": "Unconfined"}, "appArmorProfile": {"type": "Unconfined"},
                            "procMount": "Unmasked"}
GRADING_POD = {"hostUsers": False}
# Every container: no capabilities, not root (bwrap, run by a normal user, needs neither).
CONTAINER_SECURITY_CONTEXT = {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
RUNTIME_SECCOMP = {"seccompProfile": {"type": "RuntimeDefault"}}


@dataclass(frozen=True)
class Resources:
    """A role's requests (guarantees) and limits, in KubeSpawner's units."""
    cpu_guarantee: float  # cores
    cpu_limit: float      # cores
    mem_guarantee: str    # bytes, with a suffix (K, M, G)
    mem_limit: str


# hub_load.py measured about 110 MB per idle server plus a kernel per open notebook; the instructor grades the
# class with one worker per core (classgrade)
RESOURCES = {"student": Resources(0.25, 1, "512M", "2G"), "instructor": Resources(1, 2, "1G", "4G")}


@dataclass(frozen=True)
class Person:
    """One person on the roster, as their pod runs."""
    username: str
    role: str        # "student" or "instructor"
    uid: int         # runAsUser: setup_course.uid_for(username), as on one machine
    gid: int         # runAsGroup and fsGroup: their own group, the same number (as setup_course makes it)
    course_gid: int  # a supplemental group: the course's (setup_course.course_gid)


@dataclass(frozen=True)
class Course:
    """Everyone on the roster, by user name."""
    people: dict[str, Person]

    def person(self, username: str) -> Person:
        """The person of this user name; a 403 for anyone not on the roster."""
        try:
            return self.people[username]
        except KeyError:
            raise web.HTTPError(403, f"{username} is not on the course's roster") from None


def load_course(roster_path: str | Path) -> Course:
    """The roster at `roster_path`, read and checked as the single-machine setup reads it (setup_course)."""
    roster = sc.read_roster(Path(roster_path))
    people = {m.username: Person(m.username, m.role, sc.uid_for(m.username), sc.uid_for(m.username),
                                 sc.course_gid()) for m in roster.members}
    return Course(people)


def configure(c: Any, course: Course, grade_on_cluster: bool = False) -> None:
    """KubeSpawner and the authenticator, on JupyterHub's config object `c`, for this course; with
    grade_on_cluster, the instructor's pod is loosened for bwrap (GRADING_SECURITY_CONTEXT, GRADING_POD)."""
    c.Authenticator.allowed_users = set(course.people)
    c.KubeSpawner.automount_service_account_token = False
    c.KubeSpawner.allow_privilege_escalation = False
    c.KubeSpawner.pre_spawn_hook = CoursePod(course, grade_on_cluster)


@dataclass(frozen=True)
class CoursePod:
    """The pre-spawn hook: what a person's pod runs as, mounts and gets, from their line on the roster."""
    course: Course
    grade_on_cluster: bool = False  # loosen the instructor's pod for the grading sandbox

    def __call__(self, spawner: Any) -> None:
        person = self.course.person(spawner.user.name)
        self.identity(spawner, person)
        self.resources(spawner, person)
        self.volumes(spawner, person)

    def identity(self, spawner: Any, person: Person) -> None:
        """Who the pod runs as, with which rights, and the Jupyter config of the person's role."""
        spawner.uid, spawner.gid, spawner.fs_gid = person.uid, person.gid, person.gid
        spawner.supplemental_gids = [person.course_gid]
        spawner.pod_security_context = {"runAsNonRoot": True}
        grading = person.role == "instructor" and self.grade_on_cluster
        spawner.container_security_context = {
            **CONTAINER_SECURITY_CONTEXT, **(GRADING_SECURITY_CONTEXT if grading else RUNTIME_SECCOMP)}
        if grading:
            spawner.extra_pod_config = {**spawner.extra_pod_config, **GRADING_POD}
        spawner.environment = {**spawner.environment, "JUPYTER_CONFIG_PATH": f"{ROLE_CONFIG}/{person.role}"}

    @staticmethod
    def resources(spawner: Any, person: Person) -> None:
        wanted = RESOURCES[person.role]
        spawner.cpu_guarantee, spawner.cpu_limit = wanted.cpu_guarantee, wanted.cpu_limit
        spawner.mem_guarantee, spawner.mem_limit = wanted.mem_guarantee, wanted.mem_limit

    def volumes(self, spawner: Any, person: Person) -> None:
        """The exchange and the accounts in every pod, the course folder in the instructor's; each made ready by an
        init container.  The chart's own (the home volume) are kept."""
        volumes, mounts = named(spawner.volumes), named(spawner.volume_mounts)
        init = named(spawner.init_containers)
        volumes[EXCHANGE_CLAIM] = claim(EXCHANGE_CLAIM)
        mounts[EXCHANGE_CLAIM] = {"name": EXCHANGE_CLAIM, "mountPath": EXCHANGE_MOUNT}
        volumes[ACCOUNTS] = {"name": ACCOUNTS, "emptyDir": {"sizeLimit": "1Mi"}}
        for file in ("passwd", "group"):
            mounts[f"{ACCOUNTS}-{file}"] = {"name": ACCOUNTS, "mountPath": f"/etc/{file}", "subPath": file,
                                            "readOnly": True}
        instructor = person.role == "instructor"
        known = list(self.course.people.values()) if instructor else [person]
        init[ACCOUNTS] = init_container(ACCOUNTS, spawner.image, person, accounts_script(ACCOUNTS_DIR, known),
                                        {"name": ACCOUNTS, "mountPath": ACCOUNTS_DIR})
        if instructor:
            volumes[COURSE_CLAIM] = claim(COURSE_CLAIM)
            mounts[COURSE_CLAIM] = {"name": COURSE_CLAIM, "mountPath": COURSE_MOUNT}
            init["exchange-course-folder"] = init_container(
                "exchange-course-folder", spawner.image, person, exchange_folder_script(EXCHANGE_MOUNT),
                {"name": EXCHANGE_CLAIM, "mountPath": EXCHANGE_MOUNT})
        spawner.volumes, spawner.volume_mounts, spawner.init_containers = volumes, mounts, init


def claim(name: str) -> dict:
    """A pod volume of the PersistentVolumeClaim `name`, under the same name."""
    return {"name": name, "persistentVolumeClaim": {"claimName": name}}


def named(items: list | dict) -> dict:
    """KubeSpawner's volumes, volume mounts or init containers (the chart gives dicts, a config may give lists) as
    a dict, so that ours are added beside the chart's (the home) without repeating one."""
    if isinstance(items, dict):
        return dict(items)
    return {item["name"]: item for item in items}


def init_container(name: str, image: str, person: Person, script: str, mount: dict) -> dict:
    """An init container of the person's pod: `script` run by sh as the person, from the course's image."""
    return {
        "name": name,
        "image": image,
        "command": ["sh", "-c", script],
        "securityContext": {"runAsUser": person.uid, "runAsGroup": person.gid, "allowPrivilegeEscalation": False,
                            **CONTAINER_SECURITY_CONTEXT, **RUNTIME_SECCOMP},
        "volumeMounts": [mount],
    }


def accounts_script(folder: str, people: list[Person]) -> str:
    """A shell script that writes `folder`/passwd and `folder`/group: the image's own, then a user and an own
    group for each of `people` (their home the pod's, /home/jovyan) and the course's group with them in it.
    User names are the roster's, checked by setup_course (lowercase letters, digits, '-', '_'): no quoting
    is needed inside the here-documents, and none can be the upper-case end marker."""
    users = [f"{p.username}:x:{p.uid}:{p.gid}::{HOME}:/bin/bash" for p in people]
    groups = [f"{p.username}:x:{p.gid}:" for p in people]
    groups.append(f"{sc.COURSE_ID}:x:{people[0].course_gid}:{','.join(p.username for p in people)}")
    target = shlex.quote(folder)
    return "\n".join([
        "set -eu",
        f"cat /etc/passwd - > {target}/passwd <<'ROSTER'", *users, "ROSTER",
        f"cat /etc/group - > {target}/group <<'ROSTER'", *groups, "ROSTER"]) + "\n"


def exchange_folder_script(root: str) -> str:
    """A shell script that makes the course's folder in the exchange at `root` as setup_course.make_exchange does
    (the modes of setup_course.EXCHANGE_COURSE_MODES), and stops, saying why, if the root is not world-writable
    with the sticky bit (it is made so once, as root, when the volume is made: README) or the folder is another's."""
    course = f"{root}/{sc.COURSE_ID}"
    root_mode = f"{sc.EXCHANGE_ROOT_MODE:o}"
    lines = ["set -eu",
             f'if [ "$(stat -c %a {shlex.quote(root)})" != {root_mode} ]; then',
             f"  echo 'the exchange {root} must have mode {root_mode} (set it once, as root, on the volume)' >&2",
             "  exit 1",
             "fi"]
    for sub, mode in sc.EXCHANGE_COURSE_MODES.items():
        path = shlex.quote(course if sub == "." else f"{course}/{sub}")
        lines += [f"mkdir -p {path}", f"chmod {mode:o} {path}"]
    return "\n".join(lines) + "\n"
