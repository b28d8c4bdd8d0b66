package main

import (
	"fmt"
	"io"
)

// maxInput bounds what a command reads from standard input.
const maxInput = 64 << 20

func readAllLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("input larger than %d bytes", maxInput)
	}
	return b, nil
}
