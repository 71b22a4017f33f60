{{/* Full name of the release's objects. */}}
{{- define "aisflow-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aisflow-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: aisflow-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aisflow
{{- end -}}

{{- define "aisflow-operator.selectorLabels" -}}
app.kubernetes.io/name: aisflow-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "aisflow-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aisflow-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}
