package registry

// SetVerifyTxMemo turns the test binaries' check of remembered
// transaction hashes on or off, so that a test sees what Hash returns in
// the node; it returns a function that restores the previous setting.
func SetVerifyTxMemo(on bool) (restore func()) {
	was := verifyTxMemo
	verifyTxMemo = on
	return func() { verifyTxMemo = was }
}
