{{- define "carapulse.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "carapulse.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "carapulse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ include "carapulse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Pods of one component: pass (dict "root" $ "component" "serve"). */}}
{{- define "carapulse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "carapulse.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "carapulse.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "carapulse.secretName" -}}
{{- required "existingSecret: name the Secret that holds DATABASE_URL and the Slack credentials" .Values.existingSecret }}
{{- end }}

{{/* Environment of every Carapulse container: the ConfigMap, then the Secret. */}}
{{- define "carapulse.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "carapulse.fullname" . }}
  - secretRef:
      name: {{ include "carapulse.secretName" . }}
{{- end }}

{{/* Scheduling and security shared by every pod. */}}
{{- define "carapulse.podSpec" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The writable places of a read-only root filesystem: /tmp (matplotlib's cache among others). */}}
{{- define "carapulse.tmpVolume" -}}
volumes:
  - name: tmp
    emptyDir: {}
{{- end }}

{{- define "carapulse.tmpMount" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end }}
