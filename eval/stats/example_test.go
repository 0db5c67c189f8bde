package stats_test

import (
	"fmt"

	"github.com/parity-eval/parity/eval/stats"
)

// A graduation check for one feature × class × window: is the AI no more
// than 2 points worse than legacy on the same requests, and is the
// divergence rate below 5%?
func Example() {
	t := stats.Paired2x2{BothRight: 8120, LegacyOnly: 310, AIOnly: 290, BothWrong: 1280}
	ni := stats.NonInferiority(t, 0.02, 0.05, 0.8)
	div := stats.RateBelow(412, 10000, 0.05, 0.05, 0.8, 0.025)
	graduate := ni.P < 0.05 && div.P < 0.05 && ni.Enough() && div.Enough()
	fmt.Println(ni.Test, ni.CI, ni.Warnings)
	fmt.Println(div.Test, div.CI, div.Warnings)
	fmt.Println("graduate:", graduate)
}
