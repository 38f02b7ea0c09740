// SPDX-License-Identifier: MIT
// A web service that gives each new user an ID, as written for the Go
// Snowflake library.  Only the lines marked "migrated" changed.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"time"

	goflakeid "flakeid.dev/flakeid" // migrated: the Go library's import path before
)

type Server struct {
	idGen *goflakeid.Generator
}

type User struct {
	ID    uint64 `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

func NewServer(regionID uint16, appID uint8) (*Server, error) {
	config := goflakeid.NewConfig(regionID, appID, 0).
		WithAutoMachineID().
		WithEpoch(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))

	generator, err := goflakeid.OpenConfig(*config) // migrated: was NewGenerator(*config)
	if err != nil {
		return nil, err
	}
	return &Server{idGen: generator}, nil
}

func (s *Server) CreateUser(w http.ResponseWriter, r *http.Request) {
	var user User
	if err := json.NewDecoder(r.Body).Decode(&user); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, err := s.idGen.Generate()
	if err != nil {
		http.Error(w, "Failed to generate ID", http.StatusInternalServerError)
		return
	}
	user.ID = id
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(user)
}

func main() {
	server, err := NewServer(1, 1)
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/users", server.CreateUser)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
