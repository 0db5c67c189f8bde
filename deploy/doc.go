// Package deploy holds parity's deployment files: deploy/Dockerfile (a
// static binary on distroless, non-root) and deploy/kubernetes (a CronJob
// for one-shot runs, a Deployment for the `parity schedule` daemon, their
// ConfigMap and service account). It has no Go code; its test checks the
// manifests' key fields and that the ConfigMap's config validates.
package deploy
