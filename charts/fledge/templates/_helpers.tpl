{{/* The chart name, or nameOverride. */}}
{{- define "fledge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The name of every object: fullnameOverride, else the release name when it
contains the chart name ("fledge" gives the names of manifests/), else
RELEASE-NAME.
*/}}
{{- define "fledge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "fledge.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "fledge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Pod selector: stable for the life of a release. */}}
{{- define "fledge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fledge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fledge.labels" -}}
{{ include "fledge.selectorLabels" . }}
app.kubernetes.io/part-of: fledge
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "fledge.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "fledge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "fledge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "fledge.tlsSecretName" -}}
{{- default (printf "%s-webhook-tls" (include "fledge.fullname" .)) .Values.certificates.secretName -}}
{{- end -}}

{{- define "fledge.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace -}}
{{- end -}}

{{- define "fledge.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The DNS names the API server may dial: the service, short and long. */}}
{{- define "fledge.dnsNames" -}}
{{- $svc := include "fledge.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.certificates.clusterDomain) | toJson -}}
{{- end -}}

{{/*
A webhook's namespaceSelector: the namespaces it must never see (its own,
so a broken Fledge can always be repaired) plus the user's selector.
Call with (dict "root" $ "skip" (list ...)).
*/}}
{{- define "fledge.namespaceSelector" -}}
{{- $root := .root -}}
{{- $skip := concat .skip $root.Values.webhook.excludeNamespaces | uniq -}}
{{- $expressions := list (dict "key" "kubernetes.io/metadata.name" "operator" "NotIn" "values" $skip) -}}
{{- $expressions = concat $expressions ($root.Values.webhook.namespaceSelector.matchExpressions | default list) -}}
{{- $selector := dict "matchExpressions" $expressions -}}
{{- with $root.Values.webhook.namespaceSelector.matchLabels -}}
{{- $_ := set $selector "matchLabels" . -}}
{{- end -}}
{{- toYaml $selector -}}
{{- end -}}

{{/* Refuses values that do not fit together, with the field and the fix. */}}
{{- define "fledge.checks" -}}
{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.replicaCount) 1) -}}
{{- fail (printf "leaderElection.enabled: Invalid value: false: replicaCount is %d; without leader election run one replica (replicaCount: 1), or keep leaderElection.enabled: true" (int .Values.replicaCount)) -}}
{{- end -}}
{{- if and .Values.loadtester.tokenSecret.name (not .Values.loadtester.urls) -}}
{{- fail "loadtester.urls: Required value: loadtester.tokenSecret needs at least one load tester URL to send the token to, e.g. http://flagger-loadtester.prod/" -}}
{{- end -}}
{{- if and .Values.loadtester.urls (not .Values.loadtester.tokenSecret.name) -}}
{{- fail "loadtester.tokenSecret.name: Required value: loadtester.urls are only used to send a token; name the Secret that holds it" -}}
{{- end -}}
{{- if eq (int .Values.metrics.port) 9443 -}}
{{- fail "metrics.port: Invalid value: 9443: the webhook server listens on 9443; choose another port" -}}
{{- end -}}
{{- $shutdown := .Values.server.shutdownTimeout | default 25 | int -}}
{{- if le (int .Values.terminationGracePeriodSeconds) $shutdown -}}
{{- fail (printf "terminationGracePeriodSeconds: Invalid value: %d: must be longer than server.shutdownTimeout (%d s), or the kubelet kills the pod before the drain ends" (int .Values.terminationGracePeriodSeconds) $shutdown) -}}
{{- end -}}
{{- end -}}
