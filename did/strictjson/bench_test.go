package strictjson_test

import (
	"testing"

	"github.com/idmesh/idmesh/did/strictjson"
)

// benchPayload is the payload of a vc+jwt credential as idmesh issues it
// (two status entries), in encoding/json's form.
const benchPayload = `{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],"credentialStatus":[{"id":"http://node.example/status-lists/6iN6Ga8TCmPAZXq4UHHREq9SiZdoG51UCnotdBqU6iWC-5e102b45227dd297#38160","statusListCredential":"http://node.example/status-lists/6iN6Ga8TCmPAZXq4UHHREq9SiZdoG51UCnotdBqU6iWC-5e102b45227dd297","statusListIndex":"38160","statusPurpose":"revocation","type":"BitstringStatusListEntry"},{"id":"http://node.example/status-lists/6iN6Ga8TCmPAZXq4UHHREq9SiZdoG51UCnotdBqU6iWC-fdb63414fa47a96c#81927","statusListCredential":"http://node.example/status-lists/6iN6Ga8TCmPAZXq4UHHREq9SiZdoG51UCnotdBqU6iWC-fdb63414fa47a96c","statusListIndex":"81927","statusPurpose":"suspension","type":"BitstringStatusListEntry"}],"credentialSubject":{"degree":{"name":"Bachelor of Science and Arts","type":"ExampleBachelorDegree"},"id":"did:example:bench-subject-0"},"iat":1796444151,"id":"urn:uuid:f3f09486-8788-4314-9387-0e009485ff4c","issuer":"did:idmesh:6iN6Ga8TCmPAZXq4UHHREq9SiZdoG51UCnotdBqU6iWC","type":["VerifiableCredential","ExampleDegreeCredential"],"validFrom":"2026-12-05T04:15:51Z"}`

// BenchmarkObject decodes a credential's payload with each entry point:
// Object copies every string, ObjectString shares them with its input,
// ObjectStringMarshaled also reports whether the input is Marshal's text.
//
//	go test -run '^$' -bench Object ./did/strictjson/
func BenchmarkObject(b *testing.B) {
	in := []byte(benchPayload)
	b.Run("Object", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := strictjson.Object(in, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ObjectString", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := strictjson.ObjectString(benchPayload, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ObjectStringMarshaled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, err := strictjson.ObjectStringMarshaled(benchPayload, 0); err != nil || !ok {
				b.Fatal(err, ok)
			}
		}
	})
}
