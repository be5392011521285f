{{/* Labels Helm adds to every object, besides those of config/. */}}
{{- define "executor.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The arguments of `executor run`. */}}
{{- define "executor.args" -}}
- run
{{- if .Values.leaderElection.enabled }}
- --leader-elect
{{- end }}
- --health-probe-bind-address=:8081
- --metrics-bind-address={{ if .Values.metrics.enable }}:8080{{ else }}0{{ end }}
{{- range .Values.watchNamespaces }}
- --namespace={{ . }}
{{- end }}
{{- if .Values.config }}
- --config=/etc/executor/config.yaml
{{- end }}
{{- range .Values.extraArgs }}
- {{ . }}
{{- end }}
{{- end }}
