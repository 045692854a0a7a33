package io.dozor.testkit; public class Placeholder {}
