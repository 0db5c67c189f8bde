package stats

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// SimConfig describes a shadow-evaluation campaign for SimulateGraduation:
// Days daily looks at PerDay new paired requests each, where the two
// systems disagree with probability Discordance.
type SimConfig struct {
	Days        int     // number of daily looks (e.g. 14)
	PerDay      int     // paired requests per day
	Discordance float64 // P(systems disagree on a request) = P(LegacyOnly) + P(AIOnly)
	Margin      float64 // non-inferiority margin on pAI − pLegacy
	Alpha       float64 // tolerated false-graduation rate
	NaivePasses int     // consecutive daily passes the naive rule needs
	Reps        int     // Monte-Carlo replications per scenario
	Seed        uint64
}

// DefaultSimConfig is the campaign the README figures are computed for.
func DefaultSimConfig() SimConfig {
	return SimConfig{Days: 14, PerDay: 1000, Discordance: 0.10, Margin: 0.01, Alpha: 0.05, NaivePasses: 3, Reps: 5000, Seed: 1}
}

// SimRule is one graduation rule's operating characteristics.
type SimRule struct {
	Name string
	// FalseGraduation is the fraction of campaigns that graduated when the
	// AI is truly worse by exactly Margin (the worst case under H0).
	FalseGraduation float64
	// Power is the fraction that graduated when the AI is truly at parity.
	Power float64
	// MeanDay is the mean day of graduation among graduating campaigns at parity.
	MeanDay float64
}

// SimResult holds the rules' figures and the Monte-Carlo standard error of
// a rate near Alpha, √(α(1−α)/Reps).
type SimResult struct {
	Config   SimConfig
	Rules    []SimRule
	MCStdErr float64
}

// Names of the rules SimulateGraduation compares.
const (
	RuleAnytime = "anytime-valid CS, every look"
	RulePeeking = "Tango test, every look (peeking)"
	RuleFixed   = "Tango test, last day only"
	RuleNaive   = "naive: N consecutive daily point estimates within margin"
)

// SimulateGraduation estimates, by seeded simulation, how often each
// graduation rule declares the AI non-inferior (a) when it is truly worse
// by Margin and (b) when it is truly at parity, over Days daily looks:
//
//   - RuleAnytime: graduate at the first look whose two-sided (1−α)
//     ConfidenceSequence for the mean paired difference (AI right − legacy
//     right ∈ {−1, 0, 1}), tuned for the planned Days·PerDay pairs, has
//     Lo > −Margin. Valid under continuous monitoring.
//   - RulePeeking: graduate at the first look where NonInferiority has
//     P < α — a fixed-n test used repeatedly, so its error inflates.
//   - RuleFixed: NonInferiority once, on all data at the last day — valid,
//     but only if nobody acts on the interim looks.
//   - RuleNaive: graduate once NaivePasses consecutive days each have a
//     daily point estimate > −Margin.
//
// Each day's counts are drawn as a multinomial (LegacyOnly, AIOnly, rest)
// from gonum's distuv.Binomial with a PCG source seeded from Seed, so the
// result is reproducible.
func SimulateGraduation(cfg SimConfig) SimResult {
	res := SimResult{Config: cfg, MCStdErr: math.Sqrt(cfg.Alpha * (1 - cfg.Alpha) / float64(cfg.Reps))}
	names := []string{RuleAnytime, RulePeeking, RuleFixed, RuleNaive}
	res.Rules = make([]SimRule, len(names))
	for i, n := range names {
		res.Rules[i].Name = n
	}
	if cfg.Days <= 0 || cfg.PerDay <= 0 || cfg.Reps <= 0 {
		return res
	}
	planned := int64(cfg.Days) * int64(cfg.PerDay)
	for scenario, trueDiff := range []float64{-cfg.Margin, 0} {
		src := rand.NewPCG(cfg.Seed, uint64(scenario)+1)
		pLegacyOnly := (cfg.Discordance - trueDiff) / 2
		pAIOnly := (cfg.Discordance + trueDiff) / 2
		grads := make([]int, len(names))
		daySum := make([]float64, len(names))
		for range cfg.Reps {
			var cum Paired2x2
			day := make([]int, len(names)) // graduation day, 0 = not yet
			streak := 0
			for d := 1; d <= cfg.Days; d++ {
				n := float64(cfg.PerDay)
				b := distuv.Binomial{N: n, P: pLegacyOnly, Src: src}.Rand()
				c := 0.0
				if rest := n - b; rest > 0 {
					c = distuv.Binomial{N: rest, P: pAIOnly / (1 - pLegacyOnly), Src: src}.Rand()
				}
				cum.LegacyOnly += int64(b)
				cum.AIOnly += int64(c)
				cum.BothRight += int64(n - b - c)
				N := cum.N()

				if day[0] == 0 {
					mean := cum.Diff()
					v := float64(cum.LegacyOnly+cum.AIOnly)/float64(N) - mean*mean
					v *= float64(N) / float64(N-1)
					if ConfidenceSequence(N, mean, v, cfg.Alpha, planned).Lo > -cfg.Margin {
						day[0] = d
					}
				}
				if day[1] == 0 || d == cfg.Days {
					r := NonInferiority(cum, cfg.Margin, cfg.Alpha, 0.8)
					if day[1] == 0 && r.P < cfg.Alpha {
						day[1] = d
					}
					if d == cfg.Days && r.P < cfg.Alpha {
						day[2] = d
					}
				}
				if (c-b)/n > -cfg.Margin {
					streak++
				} else {
					streak = 0
				}
				if day[3] == 0 && streak >= cfg.NaivePasses {
					day[3] = d
				}
			}
			for i, d := range day {
				if d > 0 {
					grads[i]++
					daySum[i] += float64(d)
				}
			}
		}
		for i := range names {
			rate := float64(grads[i]) / float64(cfg.Reps)
			if scenario == 0 {
				res.Rules[i].FalseGraduation = rate
			} else {
				res.Rules[i].Power = rate
				res.Rules[i].MeanDay = math.NaN()
				if grads[i] > 0 {
					res.Rules[i].MeanDay = daySum[i] / float64(grads[i])
				}
			}
		}
	}
	return res
}
