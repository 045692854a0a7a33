package io.dozor.devstack; public class DevStack { public static void main(String[] a){} }
