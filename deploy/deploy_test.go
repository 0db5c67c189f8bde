package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/parity-eval/parity/config"
)

// kubectl is not available here, so the manifests are checked as YAML:
// the fields that make the two run modes reliable, and the config they
// mount through the real config validation.

func load(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("kubernetes", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// get walks a dotted path (`\.` is a literal dot); a numeric element
// indexes a list.
func get(t *testing.T, m any, path string) any {
	t.Helper()
	cur := m
	for _, p := range strings.Split(strings.ReplaceAll(path, `\.`, "\x00"), ".") {
		p = strings.ReplaceAll(p, "\x00", ".")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[p]
			if !ok {
				t.Fatalf("missing %s (at %q)", path, p)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(c) {
				t.Fatalf("missing %s (index %q)", path, p)
			}
			cur = c[i]
		default:
			t.Fatalf("missing %s (at %q)", path, p)
		}
	}
	return cur
}

func str(t *testing.T, m any, path string) string {
	t.Helper()
	s, ok := get(t, m, path).(string)
	if !ok {
		t.Fatalf("%s is not a string", path)
	}
	return s
}

func num(t *testing.T, m any, path string) int {
	t.Helper()
	n, ok := get(t, m, path).(int)
	if !ok {
		t.Fatalf("%s is not an integer", path)
	}
	return n
}

func args(t *testing.T, c any) []string {
	t.Helper()
	var out []string
	for _, a := range get(t, c, "args").([]any) {
		out = append(out, a.(string))
	}
	return out
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// mountedConfig parses the ConfigMap's parity.yaml with the real loader.
func mountedConfig(t *testing.T) (*config.Config, string, string) {
	t.Helper()
	cm := load(t, "configmap.yaml")
	if k := str(t, cm, "kind"); k != "ConfigMap" {
		t.Fatalf("configmap.yaml kind %s", k)
	}
	cfg, err := config.Parse("configmap.yaml:parity.yaml", []byte(str(t, cm, "data.parity\\.yaml")))
	if err != nil {
		t.Fatalf("the ConfigMap's config does not validate: %v", err)
	}
	sa := load(t, "serviceaccount.yaml")
	if !strings.HasPrefix(str(t, sa, "metadata.annotations.eks\\.amazonaws\\.com/role-arn"), "arn:aws:iam::") {
		t.Fatal("service account has no IRSA role annotation")
	}
	return cfg, str(t, cm, "metadata.name"), str(t, sa, "metadata.name")
}

// podChecks are shared by the CronJob and the Deployment.
func podChecks(t *testing.T, pod any, cmName, saName string) any {
	t.Helper()
	if got := str(t, pod, "serviceAccountName"); got != saName {
		t.Errorf("serviceAccountName %q, want %q (credentials via the service account)", got, saName)
	}
	if get(t, pod, "securityContext.runAsNonRoot") != true || num(t, pod, "securityContext.runAsUser") == 0 {
		t.Error("pod must run as non-root")
	}
	if got := str(t, pod, "volumes.0.configMap.name"); got != cmName {
		t.Errorf("config volume from ConfigMap %q, want %q", got, cmName)
	}
	c := get(t, pod, "containers.0")
	if str(t, c, "volumeMounts.0.mountPath") != "/etc/parity" || flagValue(args(t, c), "--config") != "/etc/parity/parity.yaml" {
		t.Error("the config must be mounted at /etc/parity and passed with --config")
	}
	for _, k := range []string{"resources.requests.cpu", "resources.requests.memory", "resources.limits.memory"} {
		get(t, c, k)
	}
	if get(t, c, "securityContext.readOnlyRootFilesystem") != true || get(t, c, "securityContext.allowPrivilegeEscalation") != false {
		t.Error("container must have a read-only root and no privilege escalation")
	}
	return c
}

func TestCronJob(t *testing.T) {
	cfg, cmName, saName := mountedConfig(t)
	cj := load(t, "cronjob.yaml")
	if str(t, cj, "apiVersion") != "batch/v1" || str(t, cj, "kind") != "CronJob" {
		t.Fatal("cronjob.yaml is not a batch/v1 CronJob")
	}
	if got := str(t, cj, "spec.concurrencyPolicy"); got != "Forbid" {
		t.Errorf("concurrencyPolicy %q, want Forbid", got)
	}
	if num(t, cj, "spec.startingDeadlineSeconds") <= 0 {
		t.Error("startingDeadlineSeconds must be set")
	}
	if n := num(t, cj, "spec.jobTemplate.spec.backoffLimit"); n < 0 || n > 5 {
		t.Errorf("backoffLimit %d", n)
	}
	pod := get(t, cj, "spec.jobTemplate.spec.template.spec")
	if str(t, pod, "restartPolicy") != "Never" {
		t.Error("restartPolicy must be Never (the Job's backoffLimit retries)")
	}
	c := podChecks(t, pod, cmName, saName)
	a := args(t, c)
	if a[0] != "run" {
		t.Fatalf("CronJob runs %v, want `run --job`", a)
	}
	job := cfg.Job(flagValue(a, "--job"))
	if job == nil {
		t.Fatalf("--job %q is not a job of the mounted config", flagValue(a, "--job"))
	}
	// The CronJob's schedule is the job's cron, without the TZ= prefix
	// (Kubernetes takes the zone in spec.timeZone).
	spec, _ := job.CronSpec()
	if f := strings.Fields(spec); strings.Join(f[1:], " ") != str(t, cj, "spec.schedule") {
		t.Errorf("CronJob schedule %q differs from job %s's %q", str(t, cj, "spec.schedule"), job.Name, spec)
	}
}

func TestDeployment(t *testing.T) {
	cfg, cmName, saName := mountedConfig(t)
	d := load(t, "deployment.yaml")
	if str(t, d, "apiVersion") != "apps/v1" || str(t, d, "kind") != "Deployment" {
		t.Fatal("deployment.yaml is not an apps/v1 Deployment")
	}
	pod := get(t, d, "spec.template.spec")
	c := podChecks(t, pod, cmName, saName)
	a := args(t, c)
	if a[0] != "schedule" {
		t.Fatalf("Deployment runs %v, want `schedule`", a)
	}
	for _, j := range cfg.Jobs {
		if j.Schedule == "" {
			t.Errorf("job %s has no schedule: the daemon would not run it", j.Name)
		}
	}
	listen := flagValue(a, "--listen")
	if !strings.HasPrefix(listen, "0.0.0.0:") {
		t.Fatalf("--listen %q: probes need the port on all interfaces", listen)
	}
	port, _ := strconv.Atoi(strings.TrimPrefix(listen, "0.0.0.0:"))
	if num(t, c, "ports.0.containerPort") != port {
		t.Errorf("containerPort %d, --listen port %d", num(t, c, "ports.0.containerPort"), port)
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		if got := str(t, c, probe+".httpGet.path"); got != path {
			t.Errorf("%s path %q, want %q", probe, got, path)
		}
		if got := str(t, c, probe+".httpGet.port"); got != str(t, c, "ports.0.name") {
			t.Errorf("%s port %q is not the container's port", probe, got)
		}
	}
	grace, err := time.ParseDuration(flagValue(a, "--grace"))
	if err != nil {
		t.Fatalf("--grace: %v", err)
	}
	if tg := time.Duration(num(t, pod, "terminationGracePeriodSeconds")) * time.Second; tg <= grace {
		t.Errorf("terminationGracePeriodSeconds %v must exceed --grace %v, or the kubelet kills a draining run", tg, grace)
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms, users []string
	var entry string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, strings.Join(f[1:], " "))
		case "USER":
			users = append(users, f[1])
		case "ENTRYPOINT":
			entry = strings.Join(f[1:], " ")
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got FROM %v", froms)
	}
	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("final stage %q: want distroless/static or scratch", final)
	}
	if !strings.Contains(string(b), "CGO_ENABLED=0") {
		t.Error("the binary must be built with CGO_ENABLED=0 (static)")
	}
	if len(users) == 0 || slices.Contains([]string{"root", "0", "0:0"}, users[len(users)-1]) {
		t.Errorf("final USER %v: want non-root", users)
	}
	if !strings.HasPrefix(entry, "[") {
		t.Errorf("ENTRYPOINT %s: want the exec form (the image has no shell)", entry)
	}
	// The builder's Go matches go.mod's.
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if m == nil || !strings.HasPrefix(froms[0], "golang:"+string(m[1])) {
		t.Errorf("builder %q does not match go.mod's go %s", froms[0], m[1])
	}
}

// TestShippedConfigsKeepVerdictsFresh: the shipped configs (the ConfigMap
// and the demo) schedule their evaluate job at 00:30 UTC (+ jitter) after
// a 24h window; with freshness equal to the window their verdicts expired
// at 00:00, before that run could replace them, every day. parity validate
// warns about that; the shipped configs must not draw the warning.
func TestShippedConfigsKeepVerdictsFresh(t *testing.T) {
	cm, _, _ := mountedConfig(t)
	demoSrc, err := os.ReadFile("../cmd/parity/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	demo, err := config.Parse("demo.yaml", demoSrc)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []*config.Config{cm, demo} {
		for _, now := range []time.Time{time.Now(), time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2027, 7, 15, 0, 0, 0, 0, time.UTC)} {
			if ws := cfg.ScheduleWarnings(now); len(ws) > 0 {
				t.Errorf("%s as of %s: %v", cfg.Path, now.Format(time.DateOnly), ws)
			}
		}
	}
}
