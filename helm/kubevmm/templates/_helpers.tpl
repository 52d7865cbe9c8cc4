{{- define "kubevmm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kubevmm.fullname" -}}
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

{{- define "kubevmm.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "kubevmm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubevmm
{{- end }}

{{- define "kubevmm.operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubevmm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "kubevmm.node.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubevmm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: node-runtime
{{- end }}

{{- define "kubevmm.operator.fullname" -}}
{{- printf "%s-operator" (include "kubevmm.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kubevmm.node.fullname" -}}
{{- printf "%s-node" (include "kubevmm.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kubevmm.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "kubevmm.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kubevmm.node.serviceAccountName" -}}
{{- if .Values.nodeRuntime.serviceAccount.create }}
{{- default (include "kubevmm.node.fullname" .) .Values.nodeRuntime.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.nodeRuntime.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Namespace of the node Leases and the operator's leader-election Lease. */}}
{{- define "kubevmm.leaseNamespace" -}}
{{- default .Release.Namespace .Values.operator.leaseNamespace }}
{{- end }}

{{- define "kubevmm.tokenSecretName" -}}
{{- default (printf "%s-node-token" (include "kubevmm.fullname" .)) .Values.nodeRuntime.existingSecret }}
{{- end }}

{{/* Secret with the migration tunnel's TLS material (tls.crt, tls.key, ca.crt). */}}
{{- define "kubevmm.migrationTlsSecretName" -}}
{{- default (printf "%s-migration-tls" (include "kubevmm.fullname" .)) .Values.migration.tls.existingSecret }}
{{- end }}

{{/* Where the node runtime reads that Secret. */}}
{{- define "kubevmm.migrationTlsDir" -}}
/etc/kubevmm/migration-tls
{{- end }}
