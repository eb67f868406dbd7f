package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"hookline/bench"
)

func runSink(args []string) error {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9000", "address to listen on")
	secret := fs.String("secret", "", "the endpoint's signing secret (whsec_...); signatures are checked when given")
	status := fs.Int("status", 200, "HTTP status to answer every delivery with (e.g. 503 to watch retries)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *status < 100 || *status > 599 {
		return fmt.Errorf("-status %d is not an HTTP status", *status)
	}
	var mu sync.Mutex
	sink, err := bench.NewSink(bench.SinkOptions{
		Listen: *listen,
		Secret: *secret,
		Status: func(*bench.Delivery) int { return *status },
		OnDelivery: func(d *bench.Delivery) {
			line := bench.FormatDelivery(d)
			mu.Lock()
			fmt.Println(line)
			mu.Unlock()
		},
	})
	if err != nil {
		return err
	}
	if err := sink.Start(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "hookline sink listening on %s\n", sink.URL())
	if *secret == "" {
		fmt.Fprintln(os.Stderr, "no --secret given: signatures are not checked")
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	st := sink.Stats()
	fmt.Fprintf(os.Stderr, "received %d requests: %d accepted, %d bad signatures, %d stale timestamps, %d duplicates\n",
		st.Requests, st.Accepted, st.BadSignature, st.BadTimestamp, st.Duplicates)
	return sink.Close()
}
