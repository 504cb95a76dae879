{{/* Names, labels and the few decisions several templates share. */}}

{{- define "llamaops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-<chart>, or the release name alone when it already holds the chart name. */}}
{{- define "llamaops.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "llamaops.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "llamaops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "llamaops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "llamaops.labels" -}}
helm.sh/chart: {{ include "llamaops.chart" . }}
{{ include "llamaops.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: llamaops
{{- end }}

{{- define "llamaops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "llamaops.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "llamaops.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Operator pods: at least 2 with high availability; more than 1 without it is refused,
     as two operators without peering would both act on every LlamaDeployment. */}}
{{- define "llamaops.replicas" -}}
{{- if .Values.highAvailability.enabled }}
{{- max 2 (int .Values.replicaCount) }}
{{- else if gt (int .Values.replicaCount) 1 }}
{{- fail "replicaCount > 1 needs highAvailability.enabled: true (kopf peering), else every operator pod acts on every LlamaDeployment" }}
{{- else }}
{{- int .Values.replicaCount }}
{{- end }}
{{- end }}

{{/* "true" when the Prometheus Operator objects are to be rendered. */}}
{{- define "llamaops.monitors" -}}
{{- if and .Values.monitoring.enabled (or (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") .Values.monitoring.forceMonitors) }}true{{ end }}
{{- end }}

{{/* The namespaced rules the operator needs wherever it watches LlamaDeployments: in the
     ClusterRole when cluster-wide, in each namespace's Role otherwise. Every rule comes
     from a call in operator/llamaops/kube/client.py, runtime/handlers.py or kopf itself. */}}
{{- define "llamaops.namespacedRules" -}}
# The watched resource: kopf lists and watches LlamaDeployments (the reconciler and the
# autoscaler read them from that watch) and patches their annotations (progress, diff
# base) and finalizer (drain on delete).
- apiGroups: ["serving.llamaops.io"]
  resources: ["llamadeployments"]
  verbs: ["list", "watch", "patch"]
# Report: status conditions, placement, replicas and the autoscaler's window.
- apiGroups: ["serving.llamaops.io"]
  resources: ["llamadeployments/status"]
  verbs: ["patch"]
# Autoscaler: writes spec.replicas through the scale subresource, as an HPA does.
- apiGroups: ["serving.llamaops.io"]
  resources: ["llamadeployments/scale"]
  verbs: ["patch"]
# Replicas: apply creates them, flips their serving label and drain annotations, and
# deletes them. (They are read from the pod informer's cache: the cluster-scoped rules.)
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["create", "patch", "delete"]
# The deployment's Service on port 8000: kopf watches the ones llamaops renders (the
# cache), one get when first needed after a start; created when missing, its spec and
# labels patched only when they differ from the rendering.
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "list", "watch", "create", "patch"]
# The deployment's PodDisruptionBudget: the same.
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch"]
# Events on LlamaDeployments (scaling, rollout, draining), posted by kopf.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{/* kopf's peering rule (keep-alives in the status of the `default` peering object). */}}
{{- define "llamaops.peeringRule" -}}
# High availability: kopf lists and watches the peering objects to see the other operator
# pods, and patches the `default` one with its keep-alives.
- apiGroups: ["kopf.dev"]
  resources: [{{ . | quote }}]
  verbs: ["list", "watch", "patch"]
{{- end }}
