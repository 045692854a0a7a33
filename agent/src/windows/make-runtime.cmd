@echo off
rem Makes .\jre: a Java runtime with only the modules the agent needs (jlink, from a JDK 21+ in %JAVA_HOME% or
rem on the PATH), which dozor-agent.cmd then uses. Smaller on disk and in memory than a full JDK (BENCHMARKS.md).
setlocal
set "HERE=%~dp0"
set "JLINK=jlink.exe"
if defined JAVA_HOME set "JLINK=%JAVA_HOME%\bin\jlink.exe"
if exist "%HERE%jre" rmdir /s /q "%HERE%jre"
"%JLINK%" --add-modules java.base,java.desktop,java.management,java.naming,java.prefs,java.sql,jdk.unsupported,jdk.crypto.ec --output "%HERE%jre" --strip-debug --no-header-files --no-man-pages --generate-cds-archive
if errorlevel 1 exit /b %ERRORLEVEL%
echo made %HERE%jre
