package io.dozor.agent; public class Main { public static void main(String[] a){} }
