#!/usr/bin/env python3
"""Regenerates charts/executor/templates from config/ (the one source of the manifests).

Renders config/default and config/prometheus with kustomize (or `kubectl kustomize`), then
writes each object as a template, replacing the few values the chart exposes with Helm
expressions. Chart.yaml, values.yaml and templates/_helpers.tpl are written by hand and kept.
Run: hack/generate-chart.py   (make chart)
"""
import os, re, shutil, subprocess, sys, tempfile
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = os.path.join(ROOT, "charts", "executor")
TEMPLATES = os.path.join(CHART, "templates")


def render(directory):
    tool = shutil.which("kustomize")
    cmd = [tool, "build", directory] if tool else [shutil.which("kubectl") or "kubectl", "kustomize", directory]
    return [d for d in yaml.safe_load_all(subprocess.check_output(cmd, text=True)) if d]


def dump(doc):
    return yaml.safe_dump(doc, sort_keys=True, default_flow_style=False, width=1000)


LABELS = "{{- include \"executor.labels\" . | nindent 4 }}"


def template(doc, wrap=None, replacements=()):
    meta = doc["metadata"]
    labels = meta.setdefault("labels", {})
    labels.pop("app.kubernetes.io/managed-by", None)
    labels["__HELM_LABELS__"] = "x"
    if "namespace" in meta:
        meta["namespace"] = "__RELEASE_NAMESPACE__"
    for subject in doc.get("subjects", []):
        if "namespace" in subject:
            subject["namespace"] = "__RELEASE_NAMESPACE__"
    text = dump(doc)
    text = re.sub(r"^(\s*)__HELM_LABELS__: x\n", lambda m: "    " + LABELS + "\n" if len(m.group(1)) == 4 else m.group(0), text, flags=re.M)
    text = text.replace("__RELEASE_NAMESPACE__", "{{ .Release.Namespace }}")
    for old, new in replacements:
        text = text.replace(old, new)
    if wrap:
        text = "{{- if %s }}\n%s{{- end }}\n" % (wrap, text)
    return text


def block(key, value_path, indent):
    """A `key:` line followed by a toYaml block of a value, at `indent` spaces."""
    return "%s:\n%s{{- toYaml %s | nindent %d }}" % (key, "", value_path, indent)


def main():
    check = "--check" in sys.argv
    global TEMPLATES
    if check:
        # Write to a scratch copy and compare with the committed templates.
        scratch = tempfile.mkdtemp()
        TEMPLATES = os.path.join(scratch, "templates")
    if os.path.isdir(TEMPLATES):
        for entry in os.listdir(TEMPLATES):
            path = os.path.join(TEMPLATES, entry)
            if os.path.isdir(path):
                shutil.rmtree(path)
    docs = render(os.path.join(ROOT, "config", "default"))
    monitor = render(os.path.join(ROOT, "config", "prometheus"))
    out = {}
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        if kind == "Namespace":
            continue  # the chart installs into the release namespace (helm install -n ... --create-namespace)
        if kind == "ConfigMap":
            continue  # the chart writes its own from .Values.config (manager/config.yaml below)
        if kind == "CustomResourceDefinition":
            doc["metadata"].setdefault("annotations", {})["__KEEP__"] = "x"
            text = template(doc, wrap=".Values.crd.enable")
            text = re.sub(r"^    __KEEP__: x\n", "    {{- if .Values.crd.keep }}\n    helm.sh/resource-policy: keep\n    {{- end }}\n", text, flags=re.M)
            out["crd/%s.yaml" % name] = text
        elif kind in ("ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
            out["rbac/%s.yaml" % name.removeprefix("executor-")] = template(doc, wrap=".Values.rbac.enable")
        elif kind == "Service" and name == "executor-flyte-pod-webhook":
            out["webhook/service.yaml"] = template(doc, wrap=".Values.webhook.enable")
        elif kind == "Service":
            out["metrics/metrics-service.yaml"] = template(doc, wrap=".Values.metrics.enable")
        elif kind == "Deployment":
            spec = doc["spec"]
            spec["replicas"] = "__REPLICAS__"
            pod = spec["template"]["spec"]
            container = pod["containers"][0]
            container["image"] = "__IMAGE__"
            container["args"] = "__ARGS__"
            container["resources"] = "__RESOURCES__"
            # The config volume comes from the values (below), as does the chart's ConfigMap.
            pod.pop("volumes", None)
            container.pop("volumeMounts", None)
            # Keys that sort last, where the config volume and its mount go.
            pod["zzz_config_volumes"] = "x"
            container["zzz_config_mounts"] = "x"
            text = template(doc, replacements=[
                ("replicas: __REPLICAS__", "replicas: {{ .Values.replicas }}"),
                ("image: __IMAGE__", "image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n        {{- with .Values.image.pullPolicy }}\n        imagePullPolicy: {{ . }}\n        {{- end }}"),
                ("args: __ARGS__", "args:\n        {{- include \"executor.args\" . | nindent 8 }}"),
                ("resources: __RESOURCES__", "resources:\n          {{- toYaml .Values.resources | nindent 10 }}"),
                ("              fieldPath: metadata.namespace\n", "              fieldPath: metadata.namespace\n        {{- with .Values.extraEnv }}\n        {{- toYaml . | nindent 8 }}\n        {{- end }}\n"),
                ("        zzz_config_mounts: x\n", "        {{- if or .Values.config .Values.extraVolumeMounts }}\n        volumeMounts:\n        {{- if .Values.config }}\n        - name: config\n          mountPath: /etc/executor\n          readOnly: true\n        {{- end }}\n        {{- with .Values.extraVolumeMounts }}\n        {{- toYaml . | nindent 8 }}\n        {{- end }}\n        {{- end }}\n"),
                ("      zzz_config_volumes: x\n", "      {{- if or .Values.config .Values.extraVolumes }}\n      volumes:\n      {{- if .Values.config }}\n      - name: config\n        configMap:\n          name: executor-config\n      {{- end }}\n      {{- with .Values.extraVolumes }}\n      {{- toYaml . | nindent 6 }}\n      {{- end }}\n      {{- end }}\n"),
            ])
            out["manager/manager.yaml"] = text
        else:
            sys.exit("generate-chart: no template rule for %s %s" % (kind, name))
    for doc in monitor:
        doc["metadata"]["name"] = "executor-" + doc["metadata"]["name"]
        doc["metadata"]["namespace"] = "x"
        out["prometheus/monitor.yaml"] = template(doc, wrap=".Values.serviceMonitor.enabled")
    out["manager/config.yaml"] = (
        "{{- if .Values.config }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    app.kubernetes.io/name: executor\n    "
        + LABELS + "\n  name: executor-config\n  namespace: {{ .Release.Namespace }}\ndata:\n  config.yaml: |\n"
        "    {{- toYaml .Values.config | nindent 4 }}\n{{- end }}\n"
    )
    for path, text in sorted(out.items()):
        full = os.path.join(TEMPLATES, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write("# Generated by hack/generate-chart.py from config/; do not edit.\n" + text)
    if check:
        committed = os.path.join(CHART, "templates")
        result = subprocess.run(["diff", "-r", "-x", "_helpers.tpl", committed, TEMPLATES], capture_output=True, text=True)
        shutil.rmtree(os.path.dirname(TEMPLATES))
        if result.returncode != 0:
            sys.exit("charts/executor/templates are stale: run `make chart`\n" + result.stdout)
        print("charts/executor/templates are current")
        return
    print("wrote %d templates in %s" % (len(out), os.path.relpath(TEMPLATES, ROOT)))


main()
