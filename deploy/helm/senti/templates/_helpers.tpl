{{/* Names ------------------------------------------------------------------ */}}
{{- define "senti.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "senti.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "senti.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "senti.selectorLabels" -}}
app.kubernetes.io/name: {{ include "senti.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "senti.labels" -}}
helm.sh/chart: {{ include "senti.chart" . }}
{{ include "senti.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: senti
senti.dev/environment: {{ .Values.environment }}
{{- end -}}

{{- define "senti.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "senti.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "senti.secretName" -}}
{{- default (printf "%s-secrets" (include "senti.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The effective senti config: config (base.yaml) with envConfig
(<environment>.yaml) deep-merged over it, as senti itself merges them. */}}
{{- define "senti.cfg" -}}
{{- $base := deepCopy .Values.config -}}
{{- toYaml (mustMergeOverwrite $base (deepCopy .Values.envConfig)) -}}
{{- end -}}

{{/* Image reference for a tag/digest override dict (empty = the main image).
Refuses "latest" in prod: a prod rollout must name what it runs. */}}
{{- define "senti.image" -}}
{{- $root := .root -}}
{{- $tag := default (default $root.Chart.AppVersion $root.Values.image.tag) .tag -}}
{{- $digest := default $root.Values.image.digest .digest -}}
{{- if and (eq $root.Values.environment "prod") (eq $tag "latest") (not $digest) -}}
{{- fail "image.tag: \"latest\" is not allowed in prod; deploy a version or commit tag" -}}
{{- end -}}
{{- if $digest -}}
{{- printf "%s@%s" $root.Values.image.repository $digest -}}
{{- else -}}
{{- printf "%s:%s" $root.Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Grace period: preStop sleep + senti's drain timeout + slack. */}}
{{- define "senti.terminationGrace" -}}
{{- $cfg := include "senti.cfg" . | fromYaml -}}
{{- $drain := div (add $cfg.server.drain_timeout_ms 999) 1000 -}}
{{- add .Values.lifecycle.preStopSleepSeconds $drain .Values.lifecycle.terminationExtraSeconds -}}
{{- end -}}

{{/* The primary workloads: one "stable" Deployment, or one per colour with
blue/green. Each is a dict: suffix, track, color, tag, digest, replicas. */}}
{{- define "senti.workloads" -}}
{{- $w := list -}}
{{- if .Values.blueGreen.enabled -}}
{{- range $color := list "blue" "green" -}}
{{- $w = append $w (dict "suffix" $color "track" "stable" "color" $color "tag" (index $.Values.blueGreen $color).tag "digest" "" "replicas" $.Values.replicaCount "primary" true) -}}
{{- end -}}
{{- else -}}
{{- $w = append $w (dict "suffix" "" "track" "stable" "color" "" "tag" "" "digest" "" "replicas" .Values.replicaCount "primary" true) -}}
{{- end -}}
{{- if .Values.canary.enabled -}}
{{- $w = append $w (dict "suffix" "canary" "track" "canary" "color" "" "tag" .Values.canary.image.tag "digest" .Values.canary.image.digest "replicas" .Values.canary.replicaCount "primary" false) -}}
{{- end -}}
{{- if .Values.shadow.enabled -}}
{{- $w = append $w (dict "suffix" "shadow" "track" "shadow" "color" "" "tag" .Values.shadow.image.tag "digest" .Values.shadow.image.digest "replicas" .Values.shadow.replicaCount "primary" false) -}}
{{- end -}}
{{- toYaml (dict "items" $w) -}}
{{- end -}}

{{- define "senti.workloadName" -}}
{{- if .w.suffix -}}
{{- printf "%s-%s" (include "senti.fullname" .root) .w.suffix | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "senti.fullname" .root -}}
{{- end -}}
{{- end -}}

{{- define "senti.workloadSelector" -}}
{{ include "senti.selectorLabels" .root }}
app.kubernetes.io/component: server
senti.dev/track: {{ .w.track }}
{{- if .w.color }}
senti.dev/color: {{ .w.color }}
{{- end }}
{{- end -}}

{{/* Selector of the main Service: the stable track, and the active colour. */}}
{{- define "senti.serviceSelector" -}}
{{ include "senti.selectorLabels" . }}
app.kubernetes.io/component: server
senti.dev/track: stable
{{- if .Values.blueGreen.enabled }}
senti.dev/color: {{ .Values.blueGreen.activeColor }}
{{- end }}
{{- end -}}

{{/* Pod template of the batch scoring Job/CronJob: dict root, cmd. */}}
{{- define "senti.batchPod" -}}
metadata:
  labels:
    {{- include "senti.labels" .root | nindent 4 }}
    app.kubernetes.io/component: batch
spec:
  restartPolicy: Never
  serviceAccountName: {{ include "senti.serviceAccountName" .root }}
  automountServiceAccountToken: false
  securityContext:
    {{- toYaml .root.Values.podSecurityContext | nindent 4 }}
  containers:
    - name: predict
      image: {{ include "senti.image" (dict "root" .root "tag" "" "digest" "") | quote }}
      imagePullPolicy: {{ .root.Values.image.pullPolicy }}
      command: ["sh", "-c", {{ .cmd | quote }}]
      env:
        - {name: OPENBLAS_NUM_THREADS, value: "1"}
      resources:
        {{- toYaml .root.Values.batch.resources | nindent 8 }}
      securityContext:
        {{- toYaml .root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - {name: input, mountPath: /input, readOnly: true}
        - {name: output, mountPath: /output}
        - {name: tmp, mountPath: /tmp}
        {{- if .root.Values.modelVolume.enabled }}
        - {name: models, mountPath: /models, readOnly: true}
        {{- end }}
  volumes:
    - name: input
      persistentVolumeClaim: {claimName: {{ .root.Values.batch.inputClaim }}, readOnly: true}
    - name: output
      persistentVolumeClaim: {claimName: {{ .root.Values.batch.outputClaim }}}
    - name: tmp
      emptyDir: {sizeLimit: 64Mi}
    {{- if .root.Values.modelVolume.enabled }}
    - name: models
      persistentVolumeClaim:
        claimName: {{ default (printf "%s-models" (include "senti.fullname" .root)) .root.Values.modelVolume.existingClaim }}
        readOnly: true
    {{- end }}
{{- end -}}
