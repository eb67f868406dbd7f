//go:build !race

package httpout

const raceEnabled = false
