{{/* SPDX-License-Identifier: Apache-2.0 */}}
{{/* Names and labels shared by the fedns-spoke templates. */}}

{{- define "fedns-spoke.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "fedns-spoke.labels" -}}
app.kubernetes.io/part-of: fedns
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
fedns.io/cluster: {{ .Values.cluster }}
{{- end -}}

{{- define "fedns-spoke.spokeSelector" -}}
app.kubernetes.io/name: fedns-spoke
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fedns-spoke.secondarySelector" -}}
app.kubernetes.io/name: fedns-secondary
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fedns-spoke.tlsSecret" -}}
{{- if .Values.tls.existingSecret -}}
{{- .Values.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "fedns-spoke.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "fedns-spoke.tsigSecret" -}}
{{- default (printf "%s-tsig" (include "fedns-spoke.fullname" .)) .Values.tsig.existingSecret -}}
{{- end -}}

{{- define "fedns-spoke.rndcSecret" -}}
{{- default (printf "%s-rndc" (include "fedns-spoke.fullname" .)) .Values.rndc.existingSecret -}}
{{- end -}}

{{- define "fedns-spoke.hubKeysConfigMap" -}}
{{- default (printf "%s-hub-keys" (include "fedns-spoke.fullname" .)) .Values.hub.signingKeysConfigMap.name -}}
{{- end -}}

{{/* The headless Service's DNS name: the spoke resolves it to find its secondaries. */}}
{{- define "fedns-spoke.secondariesHost" -}}
{{- printf "%s-secondaries.%s.svc" (include "fedns-spoke.fullname" .) .Release.Namespace -}}
{{- end -}}

{{- define "fedns-spoke.spokeHost" -}}
{{- printf "%s.%s.svc" (include "fedns-spoke.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/*
A BIND key statement with a fresh 256-bit-class secret, or the one already in the cluster
(lookup), so an upgrade never changes the key under running secondaries. Arguments: list of
root context, Secret name, data key, key name.
*/}}
{{- define "fedns-spoke.keyStatement" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $file := index . 2 -}}
{{- $keyName := index . 3 -}}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace $name -}}
{{- if and $existing $existing.data (hasKey $existing.data $file) -}}
{{- index $existing.data $file | b64dec -}}
{{- else -}}
{{- printf "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n" $keyName (randAlphaNum 44 | b64enc) -}}
{{- end -}}
{{- end -}}

{{/* The data keys of the hub-keys ConfigMap, one --hub-key each. */}}
{{- define "fedns-spoke.hubKeyFiles" -}}
{{- if .Values.hub.signingKeysConfigMap.name -}}
{{- join "\n" .Values.hub.signingKeysConfigMap.keys -}}
{{- else -}}
{{- range $i, $_ := .Values.hub.signingPublicKeys }}{{ if $i }}{{ "\n" }}{{ end }}key-{{ $i }}.pub{{ end -}}
{{- end -}}
{{- end -}}
