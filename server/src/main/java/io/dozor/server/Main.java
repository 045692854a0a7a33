package io.dozor.server; public class Main { public static void main(String[] a){} }
