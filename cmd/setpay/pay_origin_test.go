package main

import "testing"

// TestMerchantOrigin: the wallet files what a merchant sent under the
// scheme and host it reached the merchant at; paths do not split a
// merchant, a different host or port does.
func TestMerchantOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8445/":         "http://127.0.0.1:8445",
		"http://127.0.0.1:8445/shop/set": "http://127.0.0.1:8445",
		"HTTPS://Shop.Example/":          "https://shop.example",
		"http://localhost:8445/":         "http://localhost:8445",
		"http://127.0.0.1:8446/":         "http://127.0.0.1:8446",
	} {
		if got := merchantOrigin(in); got != want {
			t.Errorf("merchantOrigin(%q) = %q, want %q", in, got, want)
		}
	}
}
