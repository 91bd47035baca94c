{{- define "loadtester.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Service's name, which the Canary webhooks address: fullnameOverride,
else the release name (`flagger-loadtester` for the tutorial's URL). */}}
{{- define "loadtester.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "loadtester.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "loadtester.selectorLabels" -}}
app.kubernetes.io/name: {{ include "loadtester.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "loadtester.labels" -}}
{{ include "loadtester.selectorLabels" . }}
app.kubernetes.io/part-of: fledge
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "loadtester.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "loadtester.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "loadtester.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "loadtester.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
The API server's addresses for the NetworkPolicy: networkPolicy.kubernetesAPI.cidrs,
else the addresses of the `kubernetes` EndpointSlices in `default` (read at
install; nothing under `helm template`). A JSON list of CIDRs.
*/}}
{{- define "loadtester.apiServerCIDRs" -}}
{{- $cidrs := .Values.networkPolicy.kubernetesAPI.cidrs | default list -}}
{{- if not $cidrs -}}
{{- $slices := lookup "discovery.k8s.io/v1" "EndpointSlice" "default" "" -}}
{{- range (dig "items" list $slices) -}}
{{- if eq (dig "metadata" "labels" "kubernetes.io/service-name" "" .) "kubernetes" -}}
{{- $bits := ternary "/128" "/32" (eq (.addressType | default "IPv4") "IPv6") -}}
{{- range (.endpoints | default list) -}}
{{- range (.addresses | default list) -}}
{{- $cidrs = append $cidrs (printf "%s%s" . $bits) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $cidrs | uniq | toJson -}}
{{- end -}}
