{{- define "kjlab.labels" -}}
app.kubernetes.io/name: kjlab-classroom
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "kjlab.selector" -}}
app.kubernetes.io/name: kjlab-classroom
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kjlab.image" -}}
{{- if not .tag }}{{ fail (printf "%s.tag is empty: set it to the image that tools/classroom/build.sh --print-image names (or run kjlab class up --kubernetes, which fills it)" .what) }}{{ end -}}
{{ .name }}:{{ .tag }}
{{- end }}
